#!/usr/bin/env python3
"""Write small synthetic models with the interfaces of FaceFusion's face enhancers, for tests.

No enhancer weights can be fetched on these machines, so the enhancer path is proven with
stand-ins of the same interface: input `input` (1x3xSxS, RGB in -1..1), output 1x3xSxS in -1..1
that depends on every pixel's position (a coarse pattern upsampled over the crop, so a crop
warped from the wrong place shows), and for CodeFormer a second input `weight` (1, double)
that scales the pattern. Deterministic (fixed seed).

Usage: scripts/make_test_enhancer.py OUT_DIR
  writes enhancer_gfpgan_synthetic.onnx (512), enhancer_gpen256_synthetic.onnx (256) and
  enhancer_codeformer_synthetic.onnx (512, with weight)
"""
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build(size: int, with_weight: bool, seed: int) -> onnx.ModelProto:
    rng = np.random.default_rng(seed)
    conv_w = rng.normal(0.0, 0.05, (3, 3, 3, 3)).astype(np.float32)
    for c in range(3):
        conv_w[c, c, 1, 1] += 1.1
    conv_b = rng.normal(0.0, 0.05, 3).astype(np.float32)
    pattern = rng.normal(0.0, 0.25, (1, 3, 16, 16)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["input", "conv_w", "conv_b"], ["conv"], pads=[1, 1, 1, 1]),
        helper.make_node("Tanh", ["conv"], ["toned"]),
        helper.make_node("Resize", ["pattern", "", "scales"], ["pattern_up"], mode="linear"),
    ]
    inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, size, size])]
    if with_weight:
        inputs.append(helper.make_tensor_value_info("weight", TensorProto.DOUBLE, [1]))
        nodes += [
            helper.make_node("Cast", ["weight"], ["weight_f"], to=TensorProto.FLOAT),
            helper.make_node("Mul", ["pattern_up", "weight_f"], ["pattern_w"]),
            helper.make_node("Add", ["toned", "pattern_w"], ["sum"]),
        ]
    else:
        nodes.append(helper.make_node("Add", ["toned", "pattern_up"], ["sum"]))
    nodes.append(helper.make_node("Clip", ["sum", "low", "high"], ["output"]))
    initializers = [
        numpy_helper.from_array(conv_w, "conv_w"),
        numpy_helper.from_array(conv_b, "conv_b"),
        numpy_helper.from_array(pattern, "pattern"),
        numpy_helper.from_array(np.array([1, 1, size / 16, size / 16], dtype=np.float32), "scales"),
        numpy_helper.from_array(np.array(-1.0, dtype=np.float32), "low"),
        numpy_helper.from_array(np.array(1.0, dtype=np.float32), "high"),
    ]
    graph = helper.make_graph(
        nodes, f"enhancer_synthetic_{size}", inputs,
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, size, size])], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


MODELS = {
    "enhancer_gfpgan_synthetic.onnx": (512, False, 20261202),
    "enhancer_gpen256_synthetic.onnx": (256, False, 20261203),
    "enhancer_codeformer_synthetic.onnx": (512, True, 20261204),
}

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    for name, (size, weight, seed) in MODELS.items():
        onnx.save(build(size, weight, seed), str(out / name))
        print(f"{name}: {(out / name).stat().st_size} bytes")
