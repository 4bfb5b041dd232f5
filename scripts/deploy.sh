#!/usr/bin/env bash
# Builds the faceswap image, runs `faceswap serve` in it with an API key, waits until its
# health check says healthy, then swaps a sample picture through the API with curl. The steps
# are the README's "Deployment" section.
#
# Usage: scripts/deploy.sh [SOURCE_IMG TARGET_IMG]   (default: the sample media)
# The key is FACESWAP_API_KEY when set, else a new random one (printed).
set -euo pipefail
cd "$(dirname "$0")/.."
source_img=${1:-.cache/media/astronaut.png}
target_img=${2:-.cache/media/t1.jpg}
name=${FACESWAP_CONTAINER:-faceswap}
timeout=${FACESWAP_DEPLOY_TIMEOUT:-120}
key=${FACESWAP_API_KEY:-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')}

docker build -t faceswap .
docker rm -f "$name" >/dev/null 2>&1 || true
docker volume create faceswap-data >/dev/null
docker run -d --name "$name" -p 127.0.0.1:8787:8787 -e FACESWAP_API_KEY="$key" -v faceswap-data:/data faceswap

status=missing
for _ in $(seq "$timeout"); do
  status=$(docker inspect --format '{{.State.Health.Status}}' "$name" 2>/dev/null || echo missing)
  case "$status" in
    healthy) break ;;
    unhealthy|missing) break ;;
  esac
  sleep 1
done
if [ "$status" != healthy ]; then
  echo "faceswap did not become healthy (status: $status); its log:" >&2
  docker logs --tail 50 "$name" >&2 || true
  exit 1
fi

mkdir -p out
curl -fsS -H "Authorization: Bearer $key" -F "source=@$source_img" -F "target=@$target_img" \
  -o out/deploy-swap.png -D - http://127.0.0.1:8787/v1/swap | grep -i '^x-faces-swapped'
echo "faceswap is serving on http://127.0.0.1:8787 (API key: $key); a swap is in out/deploy-swap.png"
