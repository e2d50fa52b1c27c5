import time, numpy as np, proto, os
fr = {ts: f for ts, f in proto.frames("/work/shared/media/ml/objects_dev_720p25.mp4", 2, 640) if ts in (1500, 7500)}
face, noface = fr[1500], fr[7500]
def t(fn, n=40):
    fn(); fn()
    a = time.perf_counter()
    for _ in range(n): fn()
    return 1000 * (time.perf_counter() - a) / n
res = {}
for m in (0, 1):
    res[f"detect m{m} (face frame)"] = t(lambda: proto.detect(face, m))
    res[f"detect m{m} (no-face frame)"] = t(lambda: proto.detect(noface, m))
d = proto.detect(face, 1)[0]
H, W = face.shape[:2]
roi = proto._roi_from_detection(d[1], d[2], W, H)
pts, _ = proto.mesh(face, roi)
box = (d[1][0]*W, d[1][1]*H, (d[1][0]+d[1][2])*W, (d[1][1]+d[1][3])*H)
res["mesh x1 (192x192)"] = t(lambda: proto.mesh(face, roi))
res["pose"] = t(lambda: proto.pose_from_mesh(pts))
res["quality"] = t(lambda: proto.quality(face, box))
res["age+gender (2 ONNX + 2 chips)"] = t(lambda: proto.age_gender(face, pts[proto._MESH5, :2]))
res["emotions (fer tflite)"] = t(lambda: proto.emotions(face, box))
for m in (0, 1):
    res[f"faces_in_frame DEFAULT m{m} (1 face)"] = t(lambda: proto.faces_in_frame(face, "DEFAULT", m))
    res[f"faces_in_frame ALL m{m} (1 face)"] = t(lambda: proto.faces_in_frame(face, "ALL", m))
    res[f"faces_in_frame ALL m{m} (no face)"] = t(lambda: proto.faces_in_frame(noface, "ALL", m))
for k, v in res.items(): print(f"{k}: {v:.2f} ms")
