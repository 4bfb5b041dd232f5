#!/usr/bin/env python3
"""Load run against a face-swap service: requests/s and p50/p95/p99 latency per route and
concurrency, the answers by status (a time-out is a failure), and resident memory after 200
and after 2,000 requests (from GET /health's rss_mb, faceswap only).

A 429 ("busy, retry") is counted and retried after a short pause, as a well-behaved client
would: the figures are for the requests served, at the concurrency offered.

The client is lean on purpose (http.client, one keep-alive connection per thread, the
multipart body built once), so that on a small machine it takes as little CPU from the server
as it can.

Usage: scripts/load_test.py BASE [--routes swap,detect] [--concurrency 1,4,16] [--requests 200]
                            [--source IMG] [--target IMG] [--field-format png] [--memory] [--json FILE]
"""
import argparse
import http.client
import json
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / ".cache" / "media"


def multipart(files, fields):
    boundary = uuid.uuid4().hex
    parts = []
    for name, path in files.items():
        data = Path(path).read_bytes()
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{Path(path).name}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def percentile(values, p):
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(round(p / 100 * len(ordered) + 0.5))))
    return ordered[rank - 1]


def run(base, path, body, content_type, concurrency, total, timeout=60.0, key=None):
    """`total` requests from `concurrency` threads; returns the figures."""
    url = urlparse(base)
    lock = threading.Lock()
    latencies, statuses = [], {}
    remaining = [total]

    def worker():
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
        headers = {"Content-Type": content_type}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        while True:
            with lock:
                if remaining[0] == 0:
                    break
                remaining[0] -= 1
            started = time.perf_counter()
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = str(response.status)
                if response.getheader("connection", "").lower() == "close":
                    connection.close()
            except (OSError, http.client.HTTPException) as e:
                status = "timeout" if "timed out" in str(e) else "error"
                connection.close()
                connection = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status == "200":
                    latencies.append(elapsed)
                elif status == "429":
                    remaining[0] += 1
            if status == "429":
                time.sleep(0.02)
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    ok = statuses.get("200", 0)
    return {
        "concurrency": concurrency, "requests": total, "seconds": round(wall, 3),
        "requests_per_s": round(ok / wall, 2) if wall > 0 else 0.0,
        "p50_ms": round(percentile(latencies, 50), 1), "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1), "statuses": statuses,
    }


def rss_mb(base, key=None):
    url = urlparse(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    connection.request("GET", "/health", headers={"Authorization": f"Bearer {key}"} if key else {})
    report = json.loads(connection.getresponse().read())
    return report.get("rss_mb")


def bodies(args):
    swap = multipart({"source": args.source, "target": args.target}, {"format": args.format} if args.format else {})
    detect = multipart({"image": args.target}, {})
    return {"swap": ("/v1/swap", *swap), "detect": ("/v1/detect", *detect)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base")
    parser.add_argument("--routes", default="swap,detect")
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--requests", type=int, default=200, help="per route and concurrency")
    parser.add_argument("--source", default=str(MEDIA / "astronaut.png"))
    parser.add_argument("--target", default=str(MEDIA / "t1.jpg"))
    parser.add_argument("--format", default=None, help="png or jpeg (the swap's result)")
    parser.add_argument("--key", default=None)
    parser.add_argument("--memory", action="store_true",
                        help="also: rss after 200 and after 2,000 detect requests at concurrency 4")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    routes = bodies(args)
    report = {"base": args.base, "runs": []}
    for route in args.routes.split(","):
        path, body, content_type = routes[route]
        run(args.base, path, body, content_type, 2, 4, key=args.key)  # warm-up
        for concurrency in [int(c) for c in args.concurrency.split(",")]:
            figures = {"route": route, **run(args.base, path, body, content_type, concurrency, args.requests, key=args.key)}
            report["runs"].append(figures)
            print(f"{route:<7} c={concurrency:<3} {figures['requests_per_s']:>7.1f} req/s  p50 {figures['p50_ms']:>7.1f}  "
                  f"p95 {figures['p95_ms']:>7.1f}  p99 {figures['p99_ms']:>7.1f} ms  {figures['statuses']}", flush=True)
    if args.memory:
        path, body, content_type = routes["detect"]
        run(args.base, path, body, content_type, 4, 200, key=args.key)
        after_200 = rss_mb(args.base, args.key)
        run(args.base, path, body, content_type, 4, 1800, key=args.key)
        after_2000 = rss_mb(args.base, args.key)
        growth = (after_2000 - after_200) / after_200 * 100
        report["memory"] = {"rss_mb_after_200": after_200, "rss_mb_after_2000": after_2000, "growth_percent": round(growth, 2)}
        print(f"memory: {after_200:.1f} MB after 200 requests, {after_2000:.1f} MB after 2000 ({growth:+.1f}%)")
    failures = [r for r in report["runs"] if any(s in r["statuses"] for s in ("timeout", "error"))
                or any(s.startswith("5") for s in r["statuses"])]
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    if failures:
        sys.exit(f"failed or timed-out requests: {failures}")
    if args.memory and report["memory"]["growth_percent"] > 10:
        sys.exit(f"memory grew {report['memory']['growth_percent']}% between 200 and 2,000 requests")


if __name__ == "__main__":
    main()
