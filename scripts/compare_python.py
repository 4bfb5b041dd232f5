#!/usr/bin/env python3
"""faceswap transcode against the per-frame Python loop that tools like Deep-Live-Cam run.

The peer: insightface's FaceAnalysis.get (detection + 106 landmarks + identity, the default
pack) over every frame of the same clip, given its best thread settings (several are tried and
the fastest is kept). Frames are decoded beforehand, so only FaceAnalysis.get is timed.
faceswap: `faceswap transcode` with the landmark swapper, end to end (decode, detect, swap,
encode, mux), measured in the same run on the same machine.

Needs: numpy onnxruntime opencv-python-headless scipy scikit-image, insightface==2.1 (--no-deps),
and a release build (cargo build --release).
Usage: scripts/compare_python.py [--clip VIDEO] [--source IMG]
       (default: carphone at 640x480, 600 frames; exits non-zero below 3x)
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import onnxruntime as ort
from insightface.app import FaceAnalysis

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / ".cache" / "media"


def clip_640x480() -> Path:
    """carphone scaled to 640x480 and played five times (600 frames), so start-up is noise."""
    clip = MEDIA / "carphone-640x480-600.mp4"
    if not clip.exists():
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-stream_loop", "4", "-i", str(MEDIA / "carphone.mp4"),
                        "-vf", "scale=640:480", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(clip)], check=True)
    return clip


def python_fps(frames, threads: int, spinning: bool) -> float:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    app = FaceAnalysis(name=str(ROOT / "models"), providers=["CPUExecutionProvider"], sess_options=options)
    app.prepare(ctx_id=-1, det_size=(640, 640))
    for frame in frames[:3]:
        app.get(frame)
    started = time.perf_counter()
    for frame in frames:
        app.get(frame)
    return len(frames) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path)
    parser.add_argument("--source", type=Path, default=MEDIA / "astronaut.png")
    args = parser.parse_args()
    clip = args.clip or clip_640x480()

    capture = cv2.VideoCapture(str(clip))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    print(f"clip: {clip} ({len(frames)} frames, {frames[0].shape[1]}x{frames[0].shape[0]})")

    results = {}
    for threads, spinning in [(1, False), (2, False), (2, True)]:
        fps = python_fps(frames, threads, spinning)
        results[(threads, spinning)] = fps
        print(f"python FaceAnalysis.get: {fps:6.1f} frames/s  ({threads} intra-op threads, spinning {'on' if spinning else 'off'})")
    best_config, best = max(results.items(), key=lambda kv: kv[1])

    binary = ROOT / "target" / "release" / "faceswap"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.mp4"
        stats = Path(tmp) / "stats.json"
        subprocess.run([str(binary), "transcode", "--source", str(args.source), "--input", str(clip),
                        "--output", str(out), "--stats-json", str(stats)], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ours = json.loads(stats.read_text())
    print(f"faceswap transcode:      {ours['fps']:6.1f} frames/s  (landmark swapper, decode to encode)")
    print(f"ratio: {ours['fps'] / best:.2f}x the best Python loop ({best_config[0]} threads, spinning "
          f"{'on' if best_config[1] else 'off'})")
    stage = ours["stage_ms"]
    print("faceswap stage p50 ms: " + ", ".join(f"{k} {v['p50']:.1f}" for k, v in stage.items()))
    if ours["fps"] < 3 * best:
        sys.exit(1)


if __name__ == "__main__":
    main()
