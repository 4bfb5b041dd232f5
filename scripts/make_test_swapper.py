#!/usr/bin/env python3
"""Write a small synthetic model with inswapper_128's interface, for tests.

inswapper_128's weights cannot be fetched on these machines, so the inswapper path is proven
with this stand-in: inputs `target` (1x3x128x128, RGB in 0..1) and `source` (1x512 latent),
output 1x3x128x128 in 0..1 that depends on both, and a 512x512 `emap` as the graph's last
initializer, exactly where insightface's INSwapper reads it. Deterministic (fixed seed).

Usage: scripts/make_test_swapper.py OUT.onnx [--fp16]
  --fp16  the same model in half precision (inputs, weights, emap and output), like the fp16
          exports of inswapper_128
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build(fp16: bool = False) -> onnx.ModelProto:
    rng = np.random.default_rng(20261127)
    # A 3x3 convolution close to the identity, so the output still looks like the crop.
    conv_w = rng.normal(0.0, 0.03, (3, 3, 3, 3)).astype(np.float32)
    for c in range(3):
        conv_w[c, c, 1, 1] += 0.8
    conv_b = np.full(3, 0.08, dtype=np.float32)
    # The latent drives a coarse 8x8 colour field, upsampled over the crop.
    proj = rng.normal(0.0, 1.0, (512, 3 * 8 * 8)).astype(np.float32)
    emap = (rng.normal(0.0, 1.0, (512, 512)) / np.sqrt(512)).astype(np.float32)

    dtype = np.float16 if fp16 else np.float32
    elem = TensorProto.FLOAT16 if fp16 else TensorProto.FLOAT
    conv_w, conv_b, proj, emap = (a.astype(dtype) for a in (conv_w, conv_b, proj, emap))

    nodes = [
        helper.make_node("Conv", ["target", "conv_w", "conv_b"], ["conv"], pads=[1, 1, 1, 1]),
        helper.make_node("MatMul", ["source", "proj"], ["field_flat"]),
        helper.make_node("Reshape", ["field_flat", "field_shape"], ["field"]),
        helper.make_node("Resize", ["field", "", "scales"], ["field_up"], mode="linear"),
        helper.make_node("Tanh", ["field_up"], ["field_tanh"]),
        helper.make_node("Mul", ["field_tanh", "field_gain"], ["field_scaled"]),
        helper.make_node("Add", ["conv", "field_scaled"], ["sum"]),
        helper.make_node("Clip", ["sum", "zero", "one"], ["output"]),
    ]
    initializers = [
        numpy_helper.from_array(conv_w, "conv_w"),
        numpy_helper.from_array(conv_b, "conv_b"),
        numpy_helper.from_array(proj, "proj"),
        numpy_helper.from_array(np.array([1, 3, 8, 8], dtype=np.int64), "field_shape"),
        numpy_helper.from_array(np.array([1, 1, 16, 16], dtype=np.float32), "scales"),
        numpy_helper.from_array(np.array(0.15, dtype=dtype), "field_gain"),
        numpy_helper.from_array(np.array(0.0, dtype=dtype), "zero"),
        numpy_helper.from_array(np.array(1.0, dtype=dtype), "one"),
        # Last on purpose: insightface reads graph.initializer[-1] as the emap.
        numpy_helper.from_array(emap, "emap"),
    ]
    graph = helper.make_graph(
        nodes,
        "inswapper_synthetic",
        [
            helper.make_tensor_value_info("target", elem, [1, 3, 128, 128]),
            helper.make_tensor_value_info("source", elem, [1, 512]),
        ],
        [helper.make_tensor_value_info("output", elem, [1, 3, 128, 128])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3) or (len(sys.argv) == 3 and sys.argv[2] != "--fp16"):
        sys.exit(__doc__)
    onnx.save(build(fp16=len(sys.argv) == 3), sys.argv[1])
