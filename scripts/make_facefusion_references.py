#!/usr/bin/env python3
"""Make the FaceFusion parity references in tests/reference/ by running FaceFusion's own code.

Face enhancers: FaceFusion's `face_enhancer.enhance_face` itself (its warp to the model's
template, box mask, pre- and post-processing, paste-back and blend), with its inference pool
pointed at the synthetic models in tests/fixtures (scripts/make_test_enhancer.py) and each face's
five points taken from tests/reference/*.json (insightface's detector), so that only the
enhancer path is compared. The region the enhancer changed is saved as a PNG crop.

Pixel boost: insightface's own INSwapper with the synthetic inswapper, its 128 crop made at the
boosted size and the model run on each 128 tile through FaceFusion's `implode_pixel_boost` and
`explode_pixel_boost`, then insightface's own paste-back.

Needs: a FaceFusion checkout (--facefusion DIR), numpy onnx onnxruntime opencv-python-headless
tqdm psutil, and insightface (--no-deps) for the pixel boost.
Usage: scripts/make_facefusion_references.py --facefusion DIR
"""
import argparse
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import onnxruntime

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / ".cache" / "media"
FIXTURES = ROOT / "tests" / "fixtures"
OUT = ROOT / "tests" / "reference"

# (reference name, FaceFusion model whose template and size apply, synthetic file, picture,
#  blend, weight)
ENHANCER_CASES = [
    ("enhance_gfpgan_astronaut", "gfpgan_1.4", "enhancer_gfpgan_synthetic.onnx", "astronaut.png", 80, 0.5),
    ("enhance_gfpgan_t1", "gfpgan_1.4", "enhancer_gfpgan_synthetic.onnx", "t1.jpg", 100, 0.5),
    ("enhance_gpen256_astronaut", "gpen_bfr_256", "enhancer_gpen256_synthetic.onnx", "astronaut.png", 80, 0.5),
    ("enhance_codeformer_astronaut", "codeformer", "enhancer_codeformer_synthetic.onnx", "astronaut.png", 60, 0.7),
]


def kps_of(picture):
    """The five points of the picture's largest face (a small face of t1.jpg is blown up to
    512, the astronaut's is about that size)."""
    doc = json.loads((OUT / (Path(picture).stem + ".json")).read_text())
    largest = max(doc["faces"], key=lambda f: (f["bbox"][2] - f["bbox"][0]) * (f["bbox"][3] - f["bbox"][1]))
    return [np.array(largest["kps"], dtype=np.float32)]


def save_changed(name, before, after, meta):
    changed = np.argwhere(np.any(after != before, axis=2))
    (y0, x0), (y1, x1) = changed.min(0), changed.max(0) + 1
    cv2.imwrite(str(OUT / f"{name}.png"), after[y0:y1, x0:x1])
    meta["crop"] = [int(x0), int(y0), int(x1), int(y1)]
    (OUT / f"{name}.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"{name}: changed region {x0},{y0} .. {x1},{y1}")


def enhancers():
    from facefusion import state_manager
    from facefusion.processors.modules.face_enhancer import core as face_enhancer

    for name, model, fixture, picture, blend, weight in ENHANCER_CASES:
        session = onnxruntime.InferenceSession(str(FIXTURES / fixture), providers=["CPUExecutionProvider"])
        face_enhancer.get_inference_pool = lambda session=session: {"face_enhancer": session}
        state_manager.set_item("download_providers", [])  # no network: the URLs are not used here
        for key, value in (("face_enhancer_model", model), ("face_mask_blur", 0.3), ("face_mask_types", ["box"]),
                           ("face_enhancer_blend", blend), ("face_enhancer_weight", weight)):
            state_manager.set_item(key, value)
        frame = cv2.imread(str(MEDIA / picture))
        result = frame.copy()
        for kps in kps_of(picture):
            result = face_enhancer.enhance_face(SimpleNamespace(landmark_set={"5/68": kps}), result)
        save_changed(name, frame, result, {"model": model, "fixture": fixture, "picture": picture,
                                           "blend": blend, "weight": weight, "face": "largest"})


def pixel_boost():
    from facefusion.processors.pixel_boost import explode_pixel_boost, implode_pixel_boost
    from insightface.app.common import Face
    from insightface.model_zoo.inswapper import INSwapper

    source_doc = json.loads((OUT / "t1.json").read_text())
    largest = max(source_doc["faces"], key=lambda f: (f["bbox"][2] - f["bbox"][0]) * (f["bbox"][3] - f["bbox"][1]))
    embedding = np.array(largest["embedding"], dtype=np.float32)
    source = Face(embedding=embedding)
    target_doc = json.loads((OUT / "astronaut.json").read_text())
    target = Face(kps=np.array(target_doc["faces"][0]["kps"], dtype=np.float32),
                  bbox=np.array(target_doc["faces"][0]["bbox"], dtype=np.float32))
    frame = cv2.imread(str(MEDIA / "astronaut.png"))
    for boost in (256, 512):
        swapper = INSwapper(model_file=str(FIXTURES / "inswapper_synthetic.onnx"))
        model_run = swapper.session.run
        total = boost // 128

        def tiled(names, feeds, model_run=model_run, total=total, boost=boost):
            blob = feeds[swapper.input_names[0]]
            crop = blob[0].transpose(1, 2, 0)
            outputs = []
            for tile in implode_pixel_boost(crop, total, (128, 128)):
                tile_blob = np.ascontiguousarray(tile.transpose(2, 0, 1)[None], dtype=np.float32)
                out = model_run(names, {swapper.input_names[0]: tile_blob, swapper.input_names[1]: feeds[swapper.input_names[1]]})[0]
                outputs.append(out[0].transpose(1, 2, 0))
            whole = explode_pixel_boost(outputs, total, (128, 128), (boost, boost))
            return [whole.transpose(2, 0, 1)[None]]

        swapper.session = SimpleNamespace(run=tiled)
        swapper.input_size = (boost, boost)
        result = swapper.get(frame.copy(), target, source, paste_back=True)
        save_changed(f"pixel_boost_{boost}_astronaut", frame, result,
                     {"boost": boost, "source": "t1.jpg", "source_face": "largest", "target": "astronaut.png"})


MASK_REGIONS = ["skin", "nose", "upper-lip", "lower-lip"]


def masks():
    """The astronaut's face cut out by FaceFusion's warp (ArcFace-128 template at 256), and
    FaceFusion's occlusion and region masks of it, saved as 16-bit PNGs (mask x 65535)."""
    from facefusion import face_masker, state_manager
    from facefusion.face_helper import warp_face_by_face_landmark_5

    state_manager.set_item("download_providers", [])
    occluder = onnxruntime.InferenceSession(str(FIXTURES / "occluder_synthetic.onnx"), providers=["CPUExecutionProvider"])
    parser = onnxruntime.InferenceSession(str(FIXTURES / "parser_synthetic.onnx"), providers=["CPUExecutionProvider"])
    face_masker.get_inference_pool = lambda: {"xseg_1": occluder, "bisenet_resnet_34": parser}
    state_manager.set_item("face_occluder_model", "xseg_1")
    state_manager.set_item("face_parser_model", "bisenet_resnet_34")
    frame = cv2.imread(str(MEDIA / "astronaut.png"))
    crop, _ = warp_face_by_face_landmark_5(frame, kps_of("astronaut.png")[0], "arcface_128", (256, 256))
    cv2.imwrite(str(OUT / "mask_astronaut_crop.png"), crop)
    occlusion = face_masker.create_occlusion_mask(crop)
    region = face_masker.create_region_mask(crop, MASK_REGIONS)
    for name, mask in (("mask_astronaut_occlusion.png", occlusion), ("mask_astronaut_region.png", region)):
        cv2.imwrite(str(OUT / name), np.round(np.clip(mask, 0, 1) * 65535).astype(np.uint16))
        print(f"{name}: mean {mask.mean():.3f}, min {mask.min():.3f}, max {mask.max():.3f}")
    (OUT / "mask_astronaut.json").write_text(json.dumps({"regions": MASK_REGIONS, "template": "arcface_128",
                                                         "size": 256, "scale": 65535}, indent=1) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--facefusion", required=True, help="a FaceFusion checkout")
    args = parser.parse_args()
    sys.path.insert(0, args.facefusion)
    enhancers()
    pixel_boost()
    masks()


if __name__ == "__main__":
    main()
