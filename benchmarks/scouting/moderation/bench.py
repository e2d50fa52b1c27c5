"""Speed: ms per frame for each model at its input size, 1 and 2 intra-op threads; preprocessing
separately; plus ffmpeg decode cost of the frames fed to it."""
import time, subprocess, statistics as st, json
import numpy as np
import proto
V = "/work/shared/media/ml/objects_dev_720p25.mp4"
frames = [f for _, f in proto.iter_frames(V, 1.0)]  # 36 frames 640x360
def timeit(fn, reps):
    ts = []
    for i in range(reps):
        t = time.perf_counter(); fn(i); ts.append((time.perf_counter() - t) * 1000)
    return st.median(ts), min(ts)
out = {}
for threads in (1, 2):
    on = proto.OpenNSFW(threads=threads); nn = proto.NudeNet(threads=threads)
    xo = on.preprocess(frames[0])[None]; xn, _ = nn.preprocess(frames[0])
    for _ in range(5): on.sess.run(None, {on.inp: xo}); nn.sess.run(None, {nn.inp: xn})
    out[f"opennsfw_infer_{threads}t"] = timeit(lambda i: on.sess.run(None, {on.inp: xo}), 40)
    out[f"nudenet_infer_{threads}t"] = timeit(lambda i: nn.sess.run(None, {nn.inp: xn}), 40)
    out[f"opennsfw_full_{threads}t"] = timeit(lambda i: on.scores(frames[i % 36]), 36)
    out[f"nudenet_full_{threads}t"] = timeit(lambda i: nn.detections(frames[i % 36]), 36)
on = proto.OpenNSFW(threads=1); nn = proto.NudeNet(threads=1)
out["opennsfw_preprocess_640x360(jpeg)"] = timeit(lambda i: on.preprocess(frames[i % 36]), 72)
on2 = proto.OpenNSFW(threads=1, jpeg_roundtrip=False)
out["opennsfw_preprocess_640x360(no jpeg)"] = timeit(lambda i: on2.preprocess(frames[i % 36]), 72)
out["nudenet_preprocess_640x360"] = timeit(lambda i: nn.preprocess(frames[i % 36]), 72)
# decode: whole dev video (36 s) at 2 fps, at 640 long side and directly at 256x256 / 320x180
for name, vf in [("decode_2fps_640x360", "fps=2,scale=640:360:flags=area"),
                 ("decode_2fps_256x256", "fps=2,scale=256:256:flags=area"),
                 ("decode_2fps_320x180", "fps=2,scale=320:180:flags=area"),
                 ("decode_2fps_native1280x720", "fps=2")]:
    for thr in ("1", "2"):
        t = time.perf_counter()
        subprocess.run(["ffmpeg", "-v", "error", "-threads", thr, "-i", V, "-vf", vf, "-f", "rawvideo",
                        "-pix_fmt", "rgb24", "-"], stdout=subprocess.DEVNULL, check=True)
        out[f"{name}_ffmpeg{thr}t_per_output_frame"] = ((time.perf_counter() - t) * 1000 / 72, None)
for k, (med, mn) in out.items():
    print(f"{k:50s} median {med:8.2f} ms" + (f"  min {mn:8.2f}" if mn is not None else ""))
