import glob, json, sys, time, numpy as np, proto
files = sorted(glob.glob("/work/shared/media/real/*.mp4") + glob.glob("/work/shared/media/synthetic/*.mp4")
               + glob.glob("/work/shared/media/synthetic/*.mov") + glob.glob("/work/shared/media/synthetic/*.webm"))
rows = []
for f in files:
    for m in (0, 1):
        n = hit = 0; best = 0.0; ts_hit = []
        for ts, rgb in proto.frames(f, 2, 640):
            d = proto.detect(rgb, m, 0.3)
            n += 1
            sc = max([x[0] for x in d], default=0.0)
            best = max(best, sc)
            if sc >= 0.5:
                hit += 1; ts_hit.append(ts)
        rows.append((f.split("/media/")[1], m, n, hit, best, ts_hit[:8]))
        print(rows[-1], flush=True)
json.dump(rows, open("fp_results.json", "w"), indent=1)
# dev set per shot best score (no threshold) per model
truth = json.load(open("/work/shared/media/ml/objects_dev_720p25.truth.json"))
for m in (0, 1):
    sc = {}
    for ts, rgb in proto.frames("/work/shared/media/ml/objects_dev_720p25.mp4", 2, 640):
        d = proto.detect(rgb, m, 0.1)
        sc[ts] = max([x[0] for x in d], default=0.0)
    for s in truth["shots"]:
        v = [sc[t] for t in sc if s["start_ms"] + 500 <= t < s["end_ms"] - 500]
        print("dev", m, s["index"], s["faces"], round(max(v), 3), round(min(v), 3))
