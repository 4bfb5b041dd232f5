#!/usr/bin/env python3
"""The face-swap service written the way the original was: FastAPI on uvicorn in front of
insightface's FaceAnalysis and INSwapper, per request: decode both pictures, analyse them,
swap the largest target face with the largest source face, encode a PNG.

It serves the same contract as `faceswap serve` for the routes compared:
POST /v1/swap (multipart source, target) -> image/png, POST /v1/detect (multipart image) -> JSON.

Needs: fastapi uvicorn python-multipart numpy onnxruntime opencv-python-headless scipy
scikit-image, insightface==2.1 (--no-deps).
Usage: scripts/python_service.py --port PORT [--models DIR] [--swapper-model FILE] [--threads N]
"""
import argparse
import os
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import uvicorn
from fastapi import FastAPI, File, HTTPException, UploadFile
from fastapi.responses import Response
from insightface.app import FaceAnalysis
from insightface.model_zoo.inswapper import INSwapper

ROOT = Path(__file__).resolve().parent.parent


def build(models: Path, swapper_model: Path, threads: int) -> FastAPI:
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    analysis = FaceAnalysis(name=str(models), providers=["CPUExecutionProvider"], sess_options=options)
    analysis.prepare(ctx_id=-1, det_size=(640, 640))
    swapper = INSwapper(model_file=str(swapper_model))
    app = FastAPI()

    def decode(data: bytes, field: str):
        picture = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if picture is None:
            raise HTTPException(status_code=415, detail=f"{field} is not a picture")
        return picture

    def largest(faces):
        return max(faces, key=lambda f: (f.bbox[2] - f.bbox[0]) * (f.bbox[3] - f.bbox[1]))

    # Plain `def` routes: FastAPI runs them on its thread pool, as such services do.
    @app.post("/v1/swap")
    def swap(source: UploadFile = File(...), target: UploadFile = File(...)):
        source_picture = decode(source.file.read(), "source")
        target_picture = decode(target.file.read(), "target")
        sources = analysis.get(source_picture)
        targets = analysis.get(target_picture)
        if not sources or not targets:
            raise HTTPException(status_code=422, detail="no face")
        result = swapper.get(target_picture, largest(targets), largest(sources), paste_back=True)
        ok, png = cv2.imencode(".png", result)
        return Response(content=png.tobytes(), media_type="image/png", headers={"x-faces-swapped": "1"})

    @app.post("/v1/detect")
    def detect(image: UploadFile = File(...)):
        picture = decode(image.file.read(), "image")
        faces = analysis.get(picture)
        return {"width": picture.shape[1], "height": picture.shape[0],
                "faces": [{"bbox": [float(v) for v in f.bbox], "score": float(f.det_score),
                           "kps": [[float(x), float(y)] for x, y in f.kps]} for f in faces]}

    @app.get("/health")
    def health():
        return {"status": "healthy"}

    return app


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    parser.add_argument("--swapper-model", type=Path, default=ROOT / "tests" / "fixtures" / "inswapper_synthetic.onnx")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    app = build(args.models.resolve(), args.swapper_model.resolve(), args.threads)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
