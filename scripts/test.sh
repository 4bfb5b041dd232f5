#!/usr/bin/env bash
# Runs faceswap's tests: unit tests, then the integration tests on real models and media, with
# real clients (curl, Python's requests, headless Chromium) against servers the tests start on loopback
# (faceswap serve replicas, PostgreSQL, an S3-compatible server).
# Installs the models, media and the Python client first when they are missing (quick when
# everything is in place).
set -euo pipefail
cd "$(dirname "$0")/.."
# The OpenVINO build too: the tests compare its numbers with the CPU provider's.
python3 scripts/assets.py --openvino >/dev/null
python3 -c "import requests" 2>/dev/null || python3 -m pip install --quiet "requests>=2.31"
# Selenium drives Debian's Chromium for the studio's tests (its driver named, nothing downloaded).
python3 -c "import selenium" 2>/dev/null || python3 -m pip install --quiet "selenium>=4.20,<5"
# The S3-compatible server the many-machine tests run on loopback.
python3 -c "import moto.server, flask" 2>/dev/null || python3 -m pip install --quiet "moto[server]>=5,<6"
# The independent C2PA verifier the provenance tests read our manifests with (its own native library).
python3 -c "import c2pa" 2>/dev/null || python3 -m pip install --quiet "c2pa-python>=0.38,<0.39"
command -v curl >/dev/null || { echo "test.sh: curl is missing: run scripts/setup.sh" >&2; exit 1; }
cargo test --release --locked "$@"
