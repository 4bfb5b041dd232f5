#!/usr/bin/env python3
"""Write small synthetic models with the interfaces of FaceFusion's mask models, for tests.

No occluder or face-parser weights can be fetched on these machines, so the mask paths are
proven with stand-ins of the same interface and deterministic weights (fixed seed):
  occluder_synthetic.onnx  XSeg's: `input` 1x256x256x3 (BGR in 0..1, channels last) ->
                           1x256x256x1 in 0..1, a sigmoid of the colours and a coarse pattern,
                           so that the mask has face and not-face parts
  parser_synthetic.onnx    BiSeNet's: `input` 1x3x512x512 (ImageNet-normalised RGB) ->
                           1x19x512x512 class scores from the colours and a coarse pattern

Usage: scripts/make_test_masks.py OUT_DIR
"""
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def occluder() -> onnx.ModelProto:
    rng = np.random.default_rng(20261205)
    w = rng.normal(0.0, 2.0, (1, 3, 1, 1)).astype(np.float32)
    pattern = rng.normal(0.0, 2.5, (1, 1, 8, 8)).astype(np.float32)
    nodes = [
        helper.make_node("Transpose", ["input"], ["nchw"], perm=[0, 3, 1, 2]),
        helper.make_node("Conv", ["nchw", "w"], ["colour"]),
        helper.make_node("Resize", ["pattern", "", "scales"], ["pattern_up"], mode="linear"),
        helper.make_node("Add", ["colour", "pattern_up"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["prob"]),
        helper.make_node("Transpose", ["prob"], ["output"], perm=[0, 2, 3, 1]),
    ]
    inits = [
        numpy_helper.from_array(w, "w"),
        numpy_helper.from_array(pattern, "pattern"),
        numpy_helper.from_array(np.array([1, 1, 32, 32], dtype=np.float32), "scales"),
    ]
    graph = helper.make_graph(nodes, "occluder_synthetic",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 256, 256, 3])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 256, 256, 1])], inits)
    return finish(graph)


def parser() -> onnx.ModelProto:
    rng = np.random.default_rng(20261206)
    w = rng.normal(0.0, 1.0, (19, 3, 1, 1)).astype(np.float32)
    pattern = rng.normal(0.0, 2.0, (1, 19, 8, 8)).astype(np.float32)
    # Skin (class 1) a little ahead everywhere, so the chosen regions cover much of the face.
    pattern[0, 1] += 3.5
    nodes = [
        helper.make_node("Conv", ["input", "w"], ["colour"]),
        helper.make_node("Resize", ["pattern", "", "scales"], ["pattern_up"], mode="linear"),
        helper.make_node("Add", ["colour", "pattern_up"], ["output"]),
    ]
    inits = [
        numpy_helper.from_array(w, "w"),
        numpy_helper.from_array(pattern, "pattern"),
        numpy_helper.from_array(np.array([1, 1, 64, 64], dtype=np.float32), "scales"),
    ]
    graph = helper.make_graph(nodes, "parser_synthetic",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 512, 512])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 19, 512, 512])], inits)
    return finish(graph)


def finish(graph) -> onnx.ModelProto:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    for name, model in (("occluder_synthetic.onnx", occluder()), ("parser_synthetic.onnx", parser())):
        onnx.save(model, str(out / name))
        print(f"{name}: {(out / name).stat().st_size} bytes")
