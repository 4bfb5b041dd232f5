#!/usr/bin/env python3
"""Scaling of split video jobs, measured honestly on this machine.

Starts a PostgreSQL server (the distribution's, on a free loopback port), one `faceswap serve
--role api` and 1 or 2 `--role worker` processes, each worker pinned to its own core with
taskset, all sharing the queue and a storage folder. Submits the same long clip to each
set-up and times it from upload to result; reads each task's own time from the workers' logs.
Prints the figures and the planned wall time for N machines from them.

Usage: scripts/cluster_bench.py [--seconds 60] [--segment-seconds 5]
Needs what scripts/setup.sh installs (a release build, PostgreSQL, ffmpeg, curl).
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "target/release/faceswap"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(cmd):
    return (["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []) + cmd


def start_postgres(work: Path):
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    data = work / "pg"
    data.mkdir()
    os.chmod(work, 0o755)
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    subprocess.run(as_postgres([str(bindir / "initdb"), "-D", str(data), "-U", "faceswap", "--auth=trust"]),
                   check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    proc = subprocess.Popen(as_postgres([str(bindir / "postgres"), "-D", str(data), "-p", str(port),
                                         "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="]),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        if subprocess.run([str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                          stdout=subprocess.DEVNULL).returncode == 0:
            return proc, data, f"postgres://faceswap@127.0.0.1:{port}/postgres"
        time.sleep(0.1)
    sys.exit("PostgreSQL did not start")


def stop_postgres(proc, data):
    pid = (data / "postmaster.pid").read_text().split()[0]
    subprocess.run(["kill", "-INT", pid])
    proc.wait()


def serve(work: Path, name: str, queue: str, storage: str, role: str, extra, cpus=None):
    log = open(work / f"{name}.log", "w")
    cmd = [str(BIN), "serve", "--addr", "127.0.0.1:0", "--data-dir", str(work / name), "--queue", queue,
           "--storage", storage, "--role", role, *extra]
    if cpus is not None:
        cmd = ["taskset", "-c", cpus] + cmd
    env = {**os.environ, "RUST_LOG": "info"}
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    for line in proc.stdout:
        if line.startswith("faceswap serve: listening on "):
            return proc, line.split()[-1]
    sys.exit(f"{name} did not start: see {work / name}.log")


def curl_json(*args):
    out = subprocess.run(["curl", "-sS", *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


TASK_DONE = re.compile(r"task done task=\S+ \((\w+)\) frames=(\d+) seconds=([\d.]+)")


def run(clip: Path, workers: int, part_seconds: float, scratch: Path):
    work = Path(tempfile.mkdtemp(dir=scratch))
    pg, data, queue = start_postgres(work)
    storage = f"file:{work / 'files'}"
    procs = []
    try:
        api, base = serve(work, "api", queue, storage, "api", ["--workers", "1", "--segment-seconds", str(part_seconds)])
        procs.append(api)
        for i in range(workers):
            proc, _ = serve(work, f"worker{i}", queue, storage, "worker", ["--threads", "1"], cpus=str(i))
            procs.append(proc)
        started = time.monotonic()
        job = curl_json("-F", f"source=@{ROOT / '.cache/media/astronaut.png'}", "-F", f"input=@{clip}",
                        f"{base}/v1/jobs")
        while True:
            job = curl_json(f"{base}/v1/jobs/{job['id']}")
            if job["status"] in ("succeeded", "failed"):
                break
            time.sleep(0.1)
        wall = time.monotonic() - started
        if job["status"] != "succeeded":
            sys.exit(f"job failed: {job}")
        tasks = []
        for i in range(workers):
            tasks += [(k, int(f), float(s)) for k, f, s in TASK_DONE.findall((work / f"worker{i}.log").read_text())]
        return wall, tasks
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait()
        stop_postgres(pg, data)
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60, help="length of the clip (a multiple of 4)")
    parser.add_argument("--segment-seconds", type=float, default=5.0)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp())
    os.chmod(scratch, 0o755)
    clip = scratch / "clip.mp4"
    loops = max(1, args.seconds // 4)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-stream_loop", str(loops - 1), "-i",
                    str(ROOT / ".cache/media/carphone.mp4"), "-f", "lavfi", "-i",
                    f"sine=frequency=440:duration={4 * loops}", "-map", "0:v", "-map", "1:a", "-c:v", "libx264",
                    "-g", "30", "-preset", "veryfast", "-c:a", "aac", str(clip)], check=True)
    one, one_tasks = run(clip, 1, args.segment_seconds, scratch)
    two, _ = run(clip, 2, args.segment_seconds, scratch)
    whole, _ = run(clip, 1, 0.0, scratch)
    parts = [s for k, _, s in one_tasks if k == "part"]
    assemble = next((s for k, _, s in one_tasks if k == "assemble"), 0.0)
    per_part = sum(parts) / max(1, len(parts))
    overhead = one - sum(parts) - assemble
    frames = loops * 120
    print(f"clip: {args.seconds} s, {frames} frames at 176x144, parts of {args.segment_seconds:g} s: {len(parts)} parts")
    print(f"one worker, one core, unsplit (--segment-seconds 0): {whole:.1f} s")
    print(f"one worker, one core:  {one:.1f} s  ({frames / one:.0f} fps)")
    print(f"two workers, a core each: {two:.1f} s  ({frames / two:.0f} fps)")
    print(f"speed-up {one / two:.2f}x, efficiency {one / (2 * two):.0%}")
    print(f"per part {per_part:.2f} s, assemble {assemble:.2f} s, the rest (upload, claims, planning) {overhead:.2f} s")
    print("planned wall time on N machines: ceil(parts / N) x part + assemble + the rest")
    for n in (1, 2, 4, 8, 16):
        rounds = -(-len(parts) // n)
        print(f"  N={n:2d}: {rounds * per_part + assemble + overhead:.1f} s")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
