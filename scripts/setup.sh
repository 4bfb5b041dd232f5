#!/usr/bin/env bash
# Sets faceswap up on a fresh Debian machine and runs it once on the sample photos:
#   system packages (when missing) -> ONNX Runtime, default models, sample media (from Python
#   packages, sha256-checked) -> release build -> a swap of the sample photos into out/.
#
# Usage: scripts/setup.sh [--gpu] [--openvino] [--no-demo]
#   --gpu      also fetch the CUDA/TensorRT build of ONNX Runtime into .cache/onnxruntime-gpu
#   --openvino also fetch ONNX Runtime 1.24.1 with OpenVINO into .cache/onnxruntime-openvino
#   --no-demo  stop after the build
set -euo pipefail
cd "$(dirname "$0")/.."

gpu=0
openvino=0
demo=1
for arg in "$@"; do
  case "$arg" in
    --gpu) gpu=1 ;;
    --openvino) openvino=1 ;;
    --no-demo) demo=0 ;;
    *) echo "setup.sh: unknown option $arg (use --gpu, --openvino, --no-demo)" >&2; exit 2 ;;
  esac
done

# Build needs (ffmpeg's libraries for video and devices, clang for their bindings, SQLite for
# the job queue), ffmpeg to
# make test clips and stream in the live tests, Xvfb and ImageMagick for the window tests, curl
# for the service tests, PostgreSQL's server for the many-machine tests, Chromium and its
# driver (and a font) for the studio's browser tests.
packages=(pkg-config libclang-dev libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
  libswresample-dev libavdevice-dev libavfilter-dev libsqlite3-dev ffmpeg xvfb x11-utils imagemagick
  curl postgresql chromium chromium-driver fonts-dejavu-core openssl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

asset_args=()
[ "$gpu" -eq 1 ] && asset_args+=(--gpu)
[ "$openvino" -eq 1 ] && asset_args+=(--openvino)
python3 scripts/assets.py "${asset_args[@]}"

cargo build --release --locked

if [ "$demo" -eq 1 ]; then
  mkdir -p out
  target/release/faceswap swap --source .cache/media/astronaut.png --target .cache/media/t1.jpg \
    --all-faces --output out/t1-swapped.png --overwrite
fi
