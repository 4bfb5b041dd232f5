#!/usr/bin/env python3
"""Make the parity references in tests/reference/ by running the real insightface package.

For each sample photo: insightface's FaceAnalysis (SCRFD + 2d106det + ArcFace, the default pack in
models/) writes every face's box, score, 5 keypoints, 106 landmarks and raw identity vector.
Then insightface's own INSwapper class runs the synthetic swapper (tests/fixtures) with t1.jpg's
largest face as source onto the astronaut; the region it changed is saved as a PNG crop (the
rest of the picture is the astronaut unchanged), which keeps the reference small.

Needs: numpy onnx onnxruntime opencv-python-headless scipy scikit-image, insightface==2.1 (--no-deps).
Usage: scripts/make_references.py   (after scripts/setup.sh has fetched models and media)
"""
import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
from insightface.app import FaceAnalysis
from insightface.model_zoo.inswapper import INSwapper

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / ".cache" / "media"
OUT = ROOT / "tests" / "reference"


def faces_json(app, name):
    path = MEDIA / name
    img = cv2.imread(str(path))
    faces = app.get(img)
    return img, faces, {
        "image": name,
        "image_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "width": img.shape[1],
        "height": img.shape[0],
        "faces": [
            {
                "bbox": [round(float(v), 4) for v in f.bbox],
                "score": round(float(f.det_score), 6),
                "kps": [[round(float(x), 4), round(float(y), 4)] for x, y in f.kps],
                "landmarks": [[round(float(x), 4), round(float(y), 4)] for x, y in f.landmark_2d_106],
                "embedding": [round(float(v), 6) for v in f.embedding],
            }
            for f in faces
        ],
    }


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    app = FaceAnalysis(name=str(ROOT / "models"), providers=["CPUExecutionProvider"])
    app.prepare(ctx_id=-1, det_size=(640, 640))
    results = {}
    for name in ["astronaut.png", "t1.jpg"]:
        img, faces, doc = faces_json(app, name)
        results[name] = (img, faces)
        (OUT / (Path(name).stem + ".json")).write_text(json.dumps(doc, indent=1) + "\n")
        print(f"{name}: {len(faces)} faces")

    swapper = INSwapper(model_file=str(ROOT / "tests" / "fixtures" / "inswapper_synthetic.onnx"))
    source = max(results["t1.jpg"][1], key=lambda f: (f.bbox[2] - f.bbox[0]) * (f.bbox[3] - f.bbox[1]))
    target_img, target_faces = results["astronaut.png"]
    swapped = swapper.get(target_img.copy(), target_faces[0], source, paste_back=True)
    changed = np.argwhere(np.any(swapped != target_img, axis=2))
    (y0, x0), (y1, x1) = changed.min(0), changed.max(0) + 1
    cv2.imwrite(str(OUT / "inswapper_astronaut_crop.png"), swapped[y0:y1, x0:x1])
    (OUT / "inswapper_astronaut.json").write_text(json.dumps({
        "source": "t1.jpg", "source_face": "largest", "target": "astronaut.png",
        "crop": [int(x0), int(y0), int(x1), int(y1)],
    }, indent=1) + "\n")
    print(f"inswapper: changed region {x0},{y0} .. {x1},{y1}")


if __name__ == "__main__":
    main()
