"""``torch.onnx`` for code that imports it or asks whether an export is running.

Scripts often ``import torch.onnx`` at the top and export only on request, and model code
checks ``torch.onnx.is_in_onnx_export()`` to pick an export-friendly branch. Both work here.
Exporting itself needs a traced graph of the model, which tritensor does not build (its ops
run eagerly, as ``torch.jit`` here notes), so ``export`` raises NotImplementedError.
"""
from __future__ import annotations


class OnnxExporterError(RuntimeError):
    """torch.onnx's exporter error class (never raised here: nothing is exported)."""


def is_in_onnx_export() -> bool:
    """Whether an ONNX export is tracing the model: never, in tritensor."""
    return False


def export(model, args=(), f=None, **kwargs):
    raise NotImplementedError(
        f"tritensor.onnx.export({type(model).__name__}, ...): ONNX export is not supported: tritensor runs "
        "ops eagerly and records no graph to export. Save the weights with tritensor.save (a safetensors "
        "file) and export from PyTorch, or use the model here directly.")


def dynamo_export(model, *args, **kwargs):
    raise NotImplementedError("tritensor.onnx.dynamo_export: ONNX export is not supported "
                              "(see tritensor.onnx.export)")
