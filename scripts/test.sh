#!/usr/bin/env bash
# Runs faceswap's tests: unit tests, then the integration tests on real models and media.
# Installs the models and media first when they are missing (scripts/assets.py is quick when
# everything is in place).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/assets.py >/dev/null
cargo test --release --locked "$@"
