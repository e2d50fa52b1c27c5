"""Score every frame (at FPS) of every shared video with open_nsfw and NudeNet (RGB and the
package's BGR order); write results/scores.json.  Usage: measure.py [fps_dev] [fps_other]"""
import json, sys, os, glob, time
import numpy as np
from PIL import Image
import proto

fps_dev = float(sys.argv[1]) if len(sys.argv) > 1 else 5
fps_oth = float(sys.argv[2]) if len(sys.argv) > 2 else 2
M = "/work/shared/media/"
videos = ["ml/objects_dev_720p25.mp4"] + sorted(
    f[len(M):] for f in glob.glob(M + "real/*.mp4") + glob.glob(M + "synthetic/*.*")
    if not f.endswith((".json", ".md", ".txt", ".py")))
on = proto.OpenNSFW(threads=2)
nn = proto.NudeNet(threads=2)

def nn_scores(frame, bgr=False):
    return nn.scores(frame[:, :, ::-1].copy() if bgr else frame)

res = {}
for v in videos:
    fps = fps_dev if v.startswith("ml/") else fps_oth
    rows = []
    t0 = time.time()
    for ts, fr in proto.iter_frames(M + v, fps):
        rows.append({"t": ts, "opennsfw": on.scores(fr)["nsfw"],
                     "nudenet": nn_scores(fr), "nudenet_bgr": nn_scores(fr, True)})
    res[v] = {"fps": fps, "frames": rows}
    print(v, len(rows), "frames", f"{time.time()-t0:.1f}s", flush=True)
# the source photos at full resolution
for p in sorted(glob.glob(M + "ml/src/*")):
    fr = np.asarray(Image.open(p).convert("RGB"))
    res["src/" + os.path.basename(p)] = {"fps": None, "frames": [
        {"t": 0, "opennsfw": on.scores(fr)["nsfw"], "nudenet": nn_scores(fr), "nudenet_bgr": nn_scores(fr, True)}]}
os.makedirs("results", exist_ok=True)
json.dump(res, open("results/scores.json", "w"))
