#!/usr/bin/env python3
"""faceswap serve against the same service written the way the original was (FastAPI on
uvicorn, insightface FaceAnalysis and INSwapper: scripts/python_service.py), on the same
pictures, the same synthetic inswapper model and the same machine, measured in one run.

Both swap the largest face of t1.jpg with the astronaut through inswapper and answer a PNG.
The Python service is run with ONNX Runtime's default threads and with one thread a session
(less contention between FastAPI's request threads), and its better figure is kept.
faceswap runs with its source cache off (each request analyses its source, as the Python
service does) and, separately, on (its default). The ratio is taken at concurrency 4 without
the cache; the script exits non-zero below 2x.

Needs a release build, and scripts/python_service.py's packages.
Usage: scripts/compare_service.py [--requests 100] [--concurrency 4]
"""
import argparse
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load_test  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SYNTHETIC = ROOT / "tests" / "fixtures" / "inswapper_synthetic.onnx"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(base, process, path="/health"):
    deadline = time.time() + 120
    while time.time() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server at {base} exited with {process.returncode}")
        try:
            urllib.request.urlopen(base + path, timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"{base} did not come up")


def measure(name, base, requests, concurrency):
    body, content_type = load_test.multipart(
        {"source": ROOT / ".cache/media/astronaut.png", "target": ROOT / ".cache/media/t1.jpg"}, {})
    load_test.run(base, "/v1/swap", body, content_type, 2, 6)  # warm-up
    figures = load_test.run(base, "/v1/swap", body, content_type, concurrency, requests)
    print(f"{name:<34} {figures['requests_per_s']:>7.2f} req/s  p50 {figures['p50_ms']:>7.1f}  "
          f"p95 {figures['p95_ms']:>7.1f}  p99 {figures['p99_ms']:>7.1f} ms  {figures['statuses']}", flush=True)
    return figures


def faceswap(port, cache, data):
    return subprocess.Popen(
        [str(ROOT / "target/release/faceswap"), "serve", "--addr", f"127.0.0.1:{port}", "--data-dir", str(data),
         "--swapper", "inswapper", "--swapper-model", str(SYNTHETIC), "--source-cache", str(cache),
         "--watch-interval", "0"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    import tempfile
    results = {}
    with tempfile.TemporaryDirectory() as data:
        for threads in (0, 1):
            port = free_port()
            python = subprocess.Popen(
                [sys.executable, str(ROOT / "scripts/python_service.py"), "--port", str(port), "--threads", str(threads)],
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_up(f"http://127.0.0.1:{port}", python)
                label = f"Python (FastAPI), ORT threads {threads or 'default'}"
                figures = measure(label, f"http://127.0.0.1:{port}", args.requests, args.concurrency)
                results[f"python_threads_{threads}"] = figures
                if figures["requests_per_s"] > results.get("python", {}).get("requests_per_s", 0):
                    results["python"] = figures
            finally:
                python.terminate()
                python.wait()
        for cache, label in [(0, "faceswap serve, source cache off"), (32, "faceswap serve, source cache on")]:
            port = free_port()
            server = faceswap(port, cache, Path(data) / f"c{cache}")
            try:
                wait_up(f"http://127.0.0.1:{port}", server, "/health/ready")
                results[f"faceswap_cache_{cache}"] = measure(label, f"http://127.0.0.1:{port}", args.requests,
                                                             args.concurrency)
            finally:
                server.terminate()
                server.wait()
    ratio = results["faceswap_cache_0"]["requests_per_s"] / max(results["python"]["requests_per_s"], 1e-9)
    cached = results["faceswap_cache_32"]["requests_per_s"] / max(results["python"]["requests_per_s"], 1e-9)
    print(f"faceswap / Python at concurrency {args.concurrency}: {ratio:.2f}x (cache off), {cached:.2f}x (cache on)")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "ratio": ratio, "ratio_cached": cached}, indent=1) + "\n")
    if ratio < 2.0:
        sys.exit(f"faceswap serves {ratio:.2f}x the Python service's requests/s; expected at least 2x")


if __name__ == "__main__":
    main()
