#!/usr/bin/env python3
"""A real HTTP client (requests) for faceswap serve, driven by the integration tests.

Each command prints one JSON object on stdout; a failed expectation exits non-zero with the
reason on stderr.

  swap BASE SOURCE TARGET OUT [--all-faces] [--key KEY]
  job BASE SOURCE VIDEO OUT [--key KEY]        submit, poll to the end, download (and a Range part)
  hammer BASE SOURCE TARGET STOP_FILE [--threads N]
                                                swap until STOP_FILE exists; count answers by status
"""
import argparse
import json
import os
import sys
import threading
import time

import requests


def headers(key):
    return {"Authorization": f"Bearer {key}"} if key else {}


def swap(args):
    with open(args.source, "rb") as s, open(args.target, "rb") as t:
        data = {"all_faces": "true"} if args.all_faces else {}
        r = requests.post(f"{args.base}/v1/swap", files={"source": s, "target": t}, data=data,
                          headers=headers(args.key), timeout=120)
    if r.status_code != 200:
        sys.exit(f"swap answered {r.status_code}: {r.text}")
    with open(args.out, "wb") as f:
        f.write(r.content)
    print(json.dumps({"status": r.status_code, "content_type": r.headers["content-type"],
                      "faces_swapped": int(r.headers["x-faces-swapped"]),
                      "ms": float(r.headers["x-processing-time-ms"])}))


def job(args):
    with open(args.source, "rb") as s, open(args.video, "rb") as v:
        r = requests.post(f"{args.base}/v1/jobs", files={"source": s, "input": ("clip.mp4", v, "video/mp4")},
                          headers=headers(args.key), timeout=120)
    if r.status_code != 202:
        sys.exit(f"submit answered {r.status_code}: {r.text}")
    submitted = r.json()
    location = r.headers["location"]
    statuses, last = [], None
    deadline = time.time() + 300
    while time.time() < deadline:
        last = requests.get(f"{args.base}{location}", headers=headers(args.key), timeout=30).json()
        if not statuses or statuses[-1] != last["status"]:
            statuses.append(last["status"])
        if last["status"] in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.2)
    if last["status"] != "succeeded":
        sys.exit(f"job ended {last}")
    result = requests.get(f"{args.base}{last['links']['result']}", headers=headers(args.key), timeout=120)
    if result.status_code != 200:
        sys.exit(f"result answered {result.status_code}")
    with open(args.out, "wb") as f:
        f.write(result.content)
    part = requests.get(f"{args.base}{last['links']['result']}", headers={**headers(args.key), "Range": "bytes=10-19"},
                        timeout=30)
    print(json.dumps({"id": submitted["id"], "submitted": submitted["status"], "statuses": statuses,
                      "progress": last["progress"], "bytes": len(result.content),
                      "range_status": part.status_code, "range_bytes": len(part.content),
                      "range_matches": part.content == result.content[10:20],
                      "content_type": result.headers.get("content-type"),
                      "disposition": result.headers.get("content-disposition")}))


def hammer(args):
    with open(args.source, "rb") as f:
        source = f.read()
    with open(args.target, "rb") as f:
        target = f.read()
    counts, lock = {}, threading.Lock()
    problems = []

    def worker():
        session = requests.Session()
        while not os.path.exists(args.stop_file):
            try:
                r = session.post(f"{args.base}/v1/swap", files={"source": ("s.png", source), "target": ("t.jpg", target)},
                                 timeout=60)
                key = str(r.status_code)
                if r.status_code == 503 and "retry-after" not in r.headers:
                    problems.append("503 without Retry-After")
                if r.status_code not in (200, 503):
                    problems.append(f"{r.status_code}: {r.text[:200]}")
            except requests.RequestException as e:
                key = "error"
                problems.append(str(e))
            with lock:
                counts[key] = counts.get(key, 0) + 1

    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"counts": counts, "problems": problems[:5]}))


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("swap")
    p.add_argument("base"), p.add_argument("source"), p.add_argument("target"), p.add_argument("out")
    p.add_argument("--all-faces", action="store_true")
    p.add_argument("--key")
    p = sub.add_parser("job")
    p.add_argument("base"), p.add_argument("source"), p.add_argument("video"), p.add_argument("out")
    p.add_argument("--key")
    p = sub.add_parser("hammer")
    p.add_argument("base"), p.add_argument("source"), p.add_argument("target"), p.add_argument("stop_file")
    p.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    {"swap": swap, "job": job, "hammer": hammer}[args.command](args)


if __name__ == "__main__":
    main()
