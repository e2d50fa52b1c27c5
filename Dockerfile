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
ENV VIDX_DATA_DIR=/data
VOLUME ["/data"]
ENTRYPOINT ["vidx"]
CMD ["--help"]
