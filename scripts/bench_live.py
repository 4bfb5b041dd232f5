#!/usr/bin/env python3
"""Live swapping from a browser, measured: `faceswap serve` on loopback, Debian's Chromium
headless with its fake camera playing the sample clip, the studio's Live page, both ends' own
counters (the server's /v1/live figures, the browser's getStats) sampled once a second.

Rows: 640x480 alone, 1280x720 alone, two 640x480 sessions at once. Columns: frames a second
the browser shows, the server's receive -> send p95, the delay from the browser's encoder to
its display (encode + server p95 + jitter buffer + decode; loopback adds no network), and the
page's first load.

Usage: scripts/bench_live.py [--seconds 15] [--codec video/vp8|video/h264] [--json out.json]
Needs what scripts/setup.sh installs and a release build.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "clients"))
import studio_browser as sb  # noqa: E402

SOURCE = os.path.join(ROOT, ".cache", "media", "astronaut.png")
CLIP = os.path.join(ROOT, ".cache", "media", "carphone.mp4")
PAGE_FILES = ["/", "/studio/studio.css", "/studio/icon.svg"] + [f"/studio/js/{n}.js" for n in
                                                               ("app", "api", "drop", "picture", "video", "live", "status")]


def camera(size, folder):
    out = os.path.join(folder, f"camera-{size}.y4m")
    w, h = size.split("x")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", CLIP, "-vf", f"scale={w}:{h},fps=30", "-pix_fmt", "yuv420p",
                    "-f", "yuv4mpegpipe", out], check=True)
    return out


def serve(folder):
    binary = os.path.join(ROOT, "target", "release", "faceswap")
    process = subprocess.Popen([binary, "serve", "--addr", "127.0.0.1:0", "--data-dir", os.path.join(folder, "data"),
                                "--max-live-sessions", "2"], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=open(os.path.join(folder, "serve.log"), "w"), text=True)
    for line in process.stdout:
        if line.startswith("faceswap serve: listening on "):
            return process, line.split("listening on ", 1)[1].strip()
    raise SystemExit("the server did not start: see " + os.path.join(folder, "serve.log"))


def session(base, clip, size, seconds, codec, results, index):
    driver = sb.browser(camera=clip)
    try:
        sb.start_live(driver, base, SOURCE, size, codec)
        sb.wait(driver, 120, "the swapped video", lambda d: sb.figures(d)[0].get("frames_sent", 0) > 30)
        first_server, first_browser = sb.figures(driver)
        started = time.time()
        samples = []
        while time.time() - started < seconds:
            time.sleep(1)
            samples.append(sb.figures(driver))
        last_server, last_browser = samples[-1]
        elapsed = time.time() - started
        shown = (last_browser.get("framesDecoded", 0) - first_browser.get("framesDecoded", 0)) / elapsed
        server_p95 = sorted(s["delay_p95_ms"] for s, _ in samples)[len(samples) // 2]
        glass = [b.get("encodeMs", 0) + s["delay_p95_ms"] + b.get("jitterMs", 0) + b.get("decodeMs", 0) for s, b in samples]
        results[index] = {"fps_shown": shown, "server_p95_ms": server_p95, "encoder_to_display_p95_ms": sorted(glass)[int(0.95 * (len(glass) - 1))],
                          "stage_ms": last_server["stage_ms"], "size": [last_browser.get("width"), last_browser.get("height")],
                          "codec": last_browser.get("codec")}
        sb.by_testid(driver, "live-stop").click()
        time.sleep(1)
    finally:
        driver.quit()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--codec", default="video/vp8", choices=["video/vp8", "video/h264"])
    parser.add_argument("--json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        process, base = serve(folder)
        try:
            weight = sum(len(urllib.request.urlopen(base + path).read()) for path in PAGE_FILES)
            rows = {}
            for name, size, count in (("640x480", "640x480", 1), ("1280x720", "1280x720", 1), ("two at 640x480", "640x480", 2)):
                clip = camera(size, folder)
                results = [None] * count
                threads = [threading.Thread(target=session, args=(base, clip, size, args.seconds, args.codec, results, i)) for i in range(count)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                rows[name] = results
                time.sleep(2)
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(f"page first load: {weight / 1024:.1f} KiB; codec asked: {args.codec}")
    print(f"{'session':<16} {'received':>9} {'fps shown':>9} {'server p95':>11} {'encoder->display p95':>21}  stages (ms)")
    for name, results in rows.items():
        for r in results:
            if r is None:
                print(f"{name:<16} failed")
                continue
            st = r["stage_ms"]
            stages = " ".join(f"{k} {st[k]:.0f}" for k in ("decode", "detect", "track", "swap", "encode"))
            size = "x".join(str(v) for v in r["size"])
            print(f"{name:<16} {r['codec']:<10} {size:>9} {r['fps_shown']:>9.1f} {r['server_p95_ms']:>9.0f} ms {r['encoder_to_display_p95_ms']:>18.0f} ms  {stages}")
    if args.json:
        with open(args.json, "x") as f:
            json.dump({"page_bytes": weight, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
