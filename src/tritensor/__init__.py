"""tritensor: a PyTorch-compatible tensor library with its own Numba (CPU) and Triton (GPU) kernels.

Use it as ``import tritensor as torch``.
"""
from __future__ import annotations

from . import dtypes as _dtypes
from .dtypes import (bfloat16, bool, double, dtype, float, float16, float32, float64,  # noqa: F401
                     get_default_dtype, half, int, int8, int16, int32, int64, long,
                     promote_types, result_type, set_default_dtype, short, uint8, can_cast)
from .device import device, get_default_device, set_default_device  # noqa: F401
from .size import Size  # noqa: F401
from .type_info import finfo, iinfo  # noqa: F401
from .tensor import Tensor  # noqa: F401
from . import tensor as _tensor_module
from . import ops as _ops
from . import random as _random  # noqa: F401  (registers random ops)
from .random import Generator, default_generator  # noqa: F401
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .autograd.grad_mode import is_inference_mode_enabled  # noqa: F401
from . import accelerator, autograd, cpu, cuda  # noqa: F401
from . import func  # noqa: F401
from .func import vmap  # noqa: F401
from . import linalg  # noqa: F401
from . import special  # noqa: F401
from . import version  # noqa: F401
from . import compiler, distributions, testing  # noqa: F401
from .compiler import compile  # noqa: F401,A004  (torch.compile: returns the model unchanged)
from .backends.cpu import get_num_threads, set_num_threads  # noqa: F401
from . import optim  # noqa: F401
from . import amp  # noqa: F401
from .amp import autocast  # noqa: F401
from .amp.autocast_mode import (clear_autocast_cache, get_autocast_cpu_dtype,  # noqa: F401
                                 get_autocast_dtype, get_autocast_gpu_dtype, is_autocast_cache_enabled,
                                 is_autocast_cpu_enabled, is_autocast_enabled, set_autocast_cache_enabled,
                                 set_autocast_dtype, set_autocast_enabled)
from ._printing import set_printoptions  # noqa: F401
from . import backends  # noqa: F401  (torch.backends.cuda.matmul / cudnn flags)
from .backends.precision import get_float32_matmul_precision, set_float32_matmul_precision  # noqa: F401
from .version import __version__  # noqa: F401
from math import e, inf, nan, pi  # noqa: F401  (torch.pi, torch.e, torch.inf, torch.nan)

_tensor_module.ops = _ops
_ops.attach_methods(Tensor)
globals().update({k: v for k, v in _ops.FUNCTIONS.items() if not k.startswith("_")})
globals().update(_tensor_module.LEGACY_TYPES)
for _name, _cls in _tensor_module.CUDA_LEGACY_TYPES.items():
    setattr(cuda, _name, _cls)

from . import nn, utils  # noqa: E402,F401  (model-building half: needs the ops attached)
from .utils.deterministic import (are_deterministic_algorithms_enabled,  # noqa: E402,F401
                                   get_deterministic_debug_mode, is_deterministic_algorithms_warn_only_enabled,
                                   set_deterministic_debug_mode, use_deterministic_algorithms)

# nn.functional ops torch also offers as torch.<name>, with the same signature
for _name in ("hardshrink", "prelu", "conv1d", "conv2d", "conv3d", "pairwise_distance", "cosine_similarity",
              "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
              "max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "avg_pool1d",
              "adaptive_avg_pool1d", "rms_norm", "group_norm",
              "bilinear", "rrelu", "rrelu_", "pixel_shuffle", "pixel_unshuffle", "celu_", "selu_",
              "threshold_", "channel_shuffle", "pdist"):
    globals()[_name] = getattr(nn.functional, _name)
adaptive_max_pool1d = nn.functional.adaptive_max_pool1d_with_indices  # torch's returns (values, indices)
Tensor.hardshrink, Tensor.prelu = nn.functional.hardshrink, nn.functional.prelu
from .nn._grid_sample import affine_grid_generator, grid_sampler  # noqa: E402,F401
from .nn._ctc import ctc_loss_form as ctc_loss  # noqa: E402,F401
from .nn.modules.rnn import gru_cell, lstm_cell, rnn_relu_cell, rnn_tanh_cell  # noqa: E402,F401
from .nn._aten_forms import FORMS as _ATEN_FORMS  # noqa: E402  (and those whose arguments differ)
globals().update(_ATEN_FORMS)
from .serialization import load, save  # noqa: E402,F401
from . import jit, onnx, profiler  # noqa: E402,F401  (torch.jit without TorchScript; onnx: no export; the op profiler)
from .jit import run_forked as fork, wait  # noqa: E402,F401  (torch.fork/torch.wait: run eagerly)
from .utils import benchmark as _benchmark, dlpack as _dlpack_utils  # noqa: E402,F401  (utils.<name>)
from .utils.dlpack import to_dlpack  # noqa: E402,F401
# ATen forms and runtime flags: registered after nn, which they call into
from .ops import native_forms as _native, recurrent_forms as _recurrent, runtime_flags as _flags  # noqa: E402
from .ops import segment as _segment  # noqa: E402
_late = {_m.__name__ for _m in (_native, _recurrent, _flags, _segment)}
globals().update({k: v for k, v in _ops.FUNCTIONS.items() if getattr(v, "__module__", None) in _late})
_ops.attach_methods(Tensor)
from . import quasirandom, return_types, signal  # noqa: E402,F401
newaxis = None  # torch.newaxis: ``x[:, torch.newaxis]`` adds a dim, like numpy's


def is_inference(input) -> _dtypes.builtins.bool:
    return input.is_inference()


strided = "torch.strided"
contiguous_format = _ops.conversion.CONTIGUOUS_FORMAT
preserve_format = "torch.preserve_format"
channels_last = "torch.channels_last"


def is_tensor(obj) -> _dtypes.builtins.bool:
    return isinstance(obj, Tensor)


def is_floating_point(input) -> _dtypes.builtins.bool:
    return input.is_floating_point()


def numel(input) -> _dtypes.builtins.int:
    return input.numel()


def typename(obj) -> str:
    return obj.type() if isinstance(obj, Tensor) else type(obj).__name__


del _name, _cls


import sys as _sys  # noqa: E402
from ._picklable import name_public_functions as _name_public_functions  # noqa: E402

_name_public_functions(_sys.modules[__name__], nn.functional, special, linalg, nn.init)
