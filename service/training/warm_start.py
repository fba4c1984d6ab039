"""Warm-start training from a reader exported earlier (``model.onnx``, int8 weights or fp32).

The export keeps every weight: biases and LayerNorm parameters as they were, matrices as int8
with a scale and zero point (dynamic quantization) or as fp32. Each matrix is found by the
bias its product is added to, dequantized, and put back into the model class it came from,
so a new run can start where the shipped reader stands instead of from the base encoder.
Needs the ``train`` extra (onnx, PyTorch); nothing at run time imports this module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

_PREFIX = "model."  # the export wraps the model (``training.export_onnx``)


def onnx_state_dict(onnx_file: Path) -> dict[str, np.ndarray]:
    """The PyTorch state dict (parameter name to array) held in an exported reader."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(onnx_file)).graph
    arrays = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    def bias_after(output: str, depth: int = 0) -> str | None:
        for node in consumers.get(output, []):
            for name in node.input:
                if name.endswith(".bias") and name in arrays:
                    return name
            if depth < 4:
                for out in node.output:
                    found = bias_after(out, depth + 1)
                    if found:
                        return found
        return None

    state: dict[str, np.ndarray] = {}
    for name, value in arrays.items():
        if name.startswith(_PREFIX) and not name.endswith(("_scale", "_zero_point", "_quantized")):
            state[name[len(_PREFIX):]] = value.astype(np.float32)
        elif name.startswith(_PREFIX) and name.endswith("_quantized"):  # embeddings (Gather)
            stem = name[: -len("_quantized")]
            state[stem[len(_PREFIX):]] = _dequantize(arrays, stem)
    for node in graph.node:
        weight = node.input[1] if node.op_type in ("MatMulInteger", "MatMul") else ""
        quantized = node.op_type == "MatMulInteger" and weight.endswith("_quantized")
        if not (quantized or (node.op_type == "MatMul" and weight in arrays)):
            continue
        bias = bias_after(node.output[0])
        if bias is None:
            continue
        matrix = (_dequantize(arrays, weight[: -len("_quantized")]) if quantized
                  else arrays[weight].astype(np.float32))
        state[bias[len(_PREFIX): -len(".bias")] + ".weight"] = matrix.T.copy()
    return state


def _dequantize(arrays: dict[str, np.ndarray], stem: str) -> np.ndarray:
    quantized = arrays[stem + "_quantized"].astype(np.float32)
    scale = arrays[stem + "_scale"].astype(np.float32)
    zero = arrays[stem + "_zero_point"].astype(np.float32)
    return (quantized - zero) * scale


def load_into(model, onnx_file: Path) -> list[str]:  # type: ignore[no-untyped-def]
    """Copy the exported reader's weights into ``model`` (a ``...ForQuestionAnswering`` of the
    same shape); returns the parameter names it had no value for (none when whole)."""
    import torch

    state = onnx_state_dict(onnx_file)
    own = model.state_dict()
    unknown = sorted(set(state) - set(own))
    if unknown:
        raise ValueError(f"{onnx_file}: weights the model does not have: {unknown[:5]}")
    for name, value in state.items():
        if tuple(own[name].shape) != value.shape:
            raise ValueError(f"{onnx_file}: {name} has shape {value.shape}, "
                             f"the model {tuple(own[name].shape)}")
        own[name] = torch.from_numpy(value)
    model.load_state_dict(own)
    return sorted(n for n in own if n not in state and not n.endswith("position_ids"))
