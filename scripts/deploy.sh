#!/usr/bin/env bash
# Builds the faceswap image, runs it on the pictures in DATA_DIR, and waits until its health
# check says healthy. The steps are the README's "Deployment" section.
#
# Usage: scripts/deploy.sh DATA_DIR   (DATA_DIR holds source.jpg and input.mp4)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?usage: scripts/deploy.sh DATA_DIR (holding source.jpg and input.mp4)}
name=${FACESWAP_CONTAINER:-faceswap}
timeout=${FACESWAP_DEPLOY_TIMEOUT:-120}

docker build -t faceswap .
docker rm -f "$name" >/dev/null 2>&1 || true
docker run -d --name "$name" -p 127.0.0.1:8787:8787 -v "$(realpath "$data"):/data:ro" faceswap

for _ in $(seq "$timeout"); do
  status=$(docker inspect --format '{{.State.Health.Status}}' "$name" 2>/dev/null || echo missing)
  case "$status" in
    healthy) echo "faceswap is healthy: curl http://127.0.0.1:8787/health"; exit 0 ;;
    unhealthy|missing) break ;;
  esac
  sleep 1
done
echo "faceswap did not become healthy (status: $status); its log:" >&2
docker logs --tail 50 "$name" >&2 || true
exit 1
