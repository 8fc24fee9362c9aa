"""``tritensor.save`` / ``tritensor.load``: checkpoints as safetensors files.

Every checkpoint is a valid safetensors file (written by the ``safetensors`` package), so
its tensors open in any framework. The container for everything that is not a tensor:

* Tensors of a flat ``{str: Tensor}`` dict are stored under their own keys, exactly as
  ``safetensors.torch.save_file`` would; tensors inside nested containers get dotted paths
  (``"model.fc1.weight"``, ``"optimizer.state.0.exp_avg"``) as keys, and a tensor reached
  twice is stored once.
* The structure of the saved object (dicts with any keys, lists, tuples, numbers, strings,
  None, dtypes, devices, which tensor sits where) is JSON in the safetensors header
  metadata under ``"tritensor.structure"`` (with ``"tritensor.format": "1"``). Nodes:
  ``{"T": key, "dev": device, "param"/"rg": requires_grad}`` for tensors (``param`` marks
  an ``nn.Parameter``), ``{"D": [[k, v], ...], "od": is_ordered}`` for dicts (keys encoded
  like values), ``{"L": [...]}``/``{"U": [...]}`` for lists/tuples, ``{"dtype": name}``,
  ``{"device": str}``, ``{"P": base64 pickle}`` for any other object (loaded only with
  ``weights_only=False``), and plain JSON for str/int/float/bool/None.

A file without that metadata (e.g. written by ``safetensors.torch.save_file``) loads as a
flat ``{name: Tensor}`` dict. Truncated or corrupted files raise a RuntimeError naming
the file.
"""
from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import pickle
import struct
from collections import OrderedDict

import numpy as np
import safetensors

from . import dtypes as _dt
from .device import device as _device
from .tensor import Tensor

FORMAT_VERSION = "1"
_STRUCTURE_KEY = "tritensor.structure"

_ST_DTYPES = {_dt.float64: "F64", _dt.float32: "F32", _dt.float16: "F16", _dt.bfloat16: "BF16",
              _dt.int64: "I64", _dt.int32: "I32", _dt.int16: "I16", _dt.int8: "I8", _dt.uint8: "U8",
              _dt.bool: "BOOL"}
_FROM_ST = {v: k for k, v in _ST_DTYPES.items()}
_NP_STORAGE = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": np.uint16, "I64": np.int64,
               "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


# ---------------------------------------------------------------------------- tensors <-> bytes
def _tensor_record(t):
    """``t`` as a contiguous little-endian host array in its safetensors storage type (bf16 as bits)."""
    from .ops import to_host_array
    if t.dtype not in _ST_DTYPES:
        raise TypeError(f"tritensor.save: unsupported dtype {t.dtype}")
    arr = np.asarray(to_host_array(t.detach()), order="C")
    if t.dtype is _dt.bfloat16:  # float32 holds bf16 exactly: keep the upper 16 bits
        arr = (arr.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    else:
        arr = arr.astype(_NP_STORAGE[_ST_DTYPES[t.dtype]], copy=False)
    return t.dtype.name, np.asarray(arr.astype(arr.dtype.newbyteorder("<"), copy=False), order="C")


def _serialize(records, metadata):
    """Bytes of a safetensors file via the ``safetensors`` package (new ``TensorSpec`` API or
    the older dict API); ``records`` maps name -> (dtype name, little-endian array)."""
    if hasattr(safetensors, "TensorSpec"):
        specs = {k: safetensors.TensorSpec(dtype=name, shape=list(arr.shape), data_ptr=arr.ctypes.data,
                                           data_len=arr.nbytes) for k, (name, arr) in records.items()}
    else:  # pragma: no cover - safetensors < 0.8
        specs = {k: {"dtype": _ST_DTYPES[_dt.BY_NAME[name]], "shape": list(arr.shape), "data": arr.tobytes()}
                 for k, (name, arr) in records.items()}
    return safetensors.serialize(specs, metadata=metadata)  # ``records`` keeps the buffers alive


def _tensor_from_record(record, device):
    from .ops.creation import from_host_array
    tag = record["dtype"]
    if tag not in _FROM_ST:
        raise RuntimeError(f"tritensor.load: unsupported safetensors dtype {tag}")
    arr = np.frombuffer(record["data"], dtype=np.dtype(_NP_STORAGE[tag]).newbyteorder("<"))
    if tag == "BF16":
        arr = (arr.astype(np.uint32) << 16).view(np.float32)
    arr = arr.reshape(record["shape"])
    arr = arr.astype(arr.dtype.newbyteorder("="), copy=False)
    return from_host_array(arr, _FROM_ST[tag], _device(device))


# ---------------------------------------------------------------------------- structure encoding
class _Encoder:
    """Walks an object, collecting tensors (deduplicated by identity) and a JSON structure."""

    def __init__(self):
        self.tensors = {}
        self._keys = {}

    def encode(self, obj, path):
        from .nn.parameter import Parameter
        if isinstance(obj, Tensor):
            key = self._keys.get(id(obj))
            if key is None:
                key = path or "tensor"
                while key in self.tensors:
                    key += "_"
                self._keys[id(obj)] = key
                self.tensors[key] = _tensor_record(obj)
            node = {"T": key, "dev": str(obj.device)}
            if isinstance(obj, Parameter) or obj.requires_grad:
                node["param" if isinstance(obj, Parameter) else "rg"] = bool(obj.requires_grad)
            return node
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        if isinstance(obj, dict):
            items = [[self.encode(k, f"{path}.key{i}"), self.encode(v, _join(path, k))]
                     for i, (k, v) in enumerate(obj.items())]
            return {"D": items, "od": isinstance(obj, OrderedDict)}
        if isinstance(obj, list):
            return {"L": [self.encode(v, _join(path, i)) for i, v in enumerate(obj)]}
        if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
            return {"U": [self.encode(v, _join(path, i)) for i, v in enumerate(obj)]}
        if isinstance(obj, _dt.dtype):
            return {"dtype": obj.name}
        if isinstance(obj, _device):
            return {"device": str(obj)}
        return {"P": base64.b64encode(pickle.dumps(obj)).decode("ascii")}


def _join(path, key):
    return f"{path}.{key}" if path else str(key)


class _Decoder:
    def __init__(self, records, map_location, weights_only):
        self.records, self.map_location, self.weights_only = records, map_location, weights_only
        self._built = {}

    def decode(self, node):
        if not isinstance(node, dict):
            return node
        if "T" in node:
            key = node["T"]
            if key not in self._built:
                t = self.tensor(key, node.get("dev", "cpu"))
                if "param" in node:
                    from .nn.parameter import Parameter
                    t = Parameter(t, requires_grad=node["param"])
                elif node.get("rg"):
                    t.requires_grad_(True)
                self._built[key] = t
            return self._built[key]
        if "D" in node:
            items = [(_hashable(self.decode(k)), self.decode(v)) for k, v in node["D"]]
            return OrderedDict(items) if node.get("od") else dict(items)
        if "L" in node:
            return [self.decode(v) for v in node["L"]]
        if "U" in node:
            return tuple(self.decode(v) for v in node["U"])
        if "dtype" in node:
            return _dt.BY_NAME[node["dtype"]]
        if "device" in node:
            return _device(node["device"])
        if "P" in node:
            data = base64.b64decode(node["P"])
            return _WeightsOnlyUnpickler(io.BytesIO(data)).load() if self.weights_only else pickle.loads(data)
        raise RuntimeError(f"tritensor.load: unknown structure node {sorted(node)}")

    def tensor(self, key, saved_device):
        if key not in self.records:
            raise RuntimeError(f"tritensor.load: checkpoint is corrupted: tensor '{key}' is missing")
        return _place(self.records[key], saved_device, self.map_location)


def _hashable(k):
    return tuple(_hashable(x) for x in k) if isinstance(k, list) else k


def _place(record, saved_device, map_location):
    if map_location is None:
        target = saved_device
    elif callable(map_location):
        t = _tensor_from_record(record, "cpu")
        result = map_location(t, saved_device)
        return t if result is None else result
    elif isinstance(map_location, dict):
        target = map_location.get(saved_device, saved_device)
    else:
        target = map_location
    target = _device(target)
    if target.type == "cuda":
        from . import cuda
        if not cuda.is_available():
            raise RuntimeError("Attempting to deserialize object on a CUDA device but "
                               "tritensor.cuda.is_available() is False. If you are running on a CPU-only "
                               "machine, please use tritensor.load with map_location='cpu' to map your "
                               "storages to the CPU.")
    return _tensor_from_record(record, target)


# ---------------------------------------------------------------------------- weights_only
#: What a weights-only load unpickles without being told: containers, and what tritensor's
#: tensors and parameters reduce to (a host numpy array and the names of dtype and device)
_DEFAULT_SAFE = {("collections", "OrderedDict"), ("builtins", "set"), ("builtins", "frozenset"),
                 ("builtins", "slice"), ("builtins", "complex"), ("tritensor.tensor", "_rebuild"),
                 ("tritensor.nn.parameter", "_rebuild_parameter"), ("numpy", "ndarray"), ("numpy", "dtype"),
                 ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                 *(("numpy.dtypes", f"{name}DType") for name in ("Float64", "Float32", "Float16", "Int64",
                                                                 "Int32", "Int16", "Int8", "UInt8", "UInt16",
                                                                 "Bool"))}
_user_safe = []  # torch.serialization.add_safe_globals: objects, or (object, "module.name") pairs


def _global_name(entry) -> str:
    if isinstance(entry, tuple):
        return entry[1]
    return f"{entry.__module__}.{entry.__qualname__}"


def add_safe_globals(safe_globals) -> None:
    """Allow these classes and functions in ``load(weights_only=True)`` (``torch.serialization``'s)."""
    _user_safe.extend(safe_globals)


def get_safe_globals() -> list:
    return list(_user_safe)


def clear_safe_globals() -> None:
    _user_safe.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """``add_safe_globals`` for the duration of a ``with`` block."""
    count = len(_user_safe)
    _user_safe.extend(safe_globals)
    try:
        yield
    finally:
        del _user_safe[count:]


class _WeightsOnlyUnpickler(pickle.Unpickler):
    """Unpickles only the default globals and the allowlisted ones, as torch's weights-only
    loader: a checkpoint cannot make ``load`` import or call anything else."""

    def find_class(self, module, name):
        if (module, name) in _DEFAULT_SAFE or f"{module}.{name}" in {_global_name(g) for g in _user_safe}:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            "tritensor.load: weights only load failed: the checkpoint holds a pickled Python object, and "
            f"GLOBAL {module}.{name} is not an allowed global. If you trust this class/function, allow it "
            f"with tritensor.serialization.add_safe_globals([{name}]) or the "
            f"tritensor.serialization.safe_globals([{name}]) context manager; or, if you trust the whole "
            "file, pass weights_only=False.")


# ---------------------------------------------------------------------------- public API
def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Write ``obj`` (tensor, state dict, nested containers) to a path or binary file object."""
    enc = _Encoder()
    structure = enc.encode(obj, "")
    metadata = {"tritensor.format": FORMAT_VERSION, _STRUCTURE_KEY: json.dumps(structure, allow_nan=True)}
    data = _serialize(enc.tensors, metadata)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            fh.write(data)
    else:
        f.write(data)


def _read_bytes(f):
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            return fh.read(), os.fspath(f)
    if isinstance(f, (bytes, bytearray)):
        return bytes(f), "<bytes>"
    return f.read(), getattr(f, "name", "<file object>")


def _parse(raw, name):
    """Header metadata and tensor records; RuntimeError naming the file if it is not valid."""
    if raw[:2] == b"PK" or raw[:1] == b"\x80":
        raise RuntimeError(f"tritensor.load: '{name}' is a torch.save (zip/pickle) file; tritensor reads "
                           "safetensors checkpoints. Re-save it with safetensors.torch.save_file.")
    if not raw:  # as torch.load of an empty file
        raise EOFError(f"tritensor.load: '{name}' is empty")
    try:
        if len(raw) < 8:
            raise ValueError(f"file is {len(raw)} bytes long, shorter than the 8-byte header size")
        (header_len,) = struct.unpack("<Q", raw[:8])
        if 8 + header_len > len(raw):
            raise ValueError(f"header claims {header_len} bytes but the file has {len(raw) - 8}")
        header = json.loads(raw[8:8 + header_len])
        records = dict(safetensors.deserialize(raw))
    except (ValueError, safetensors.SafetensorError, UnicodeDecodeError) as e:
        raise RuntimeError(f"tritensor.load: '{name}' is not a valid checkpoint (truncated or corrupted?): "
                           f"{e}") from None
    return header.get("__metadata__") or {}, records


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **pickle_load_args):
    """Read a checkpoint written by ``save`` (or any safetensors file) back into objects."""
    raw, name = _read_bytes(f)
    metadata, records = _parse(raw, name)
    dec = _Decoder(records, map_location, weights_only)
    if _STRUCTURE_KEY in metadata:
        try:
            structure = json.loads(metadata[_STRUCTURE_KEY])
        except ValueError as e:
            raise RuntimeError(f"tritensor.load: '{name}' has a corrupted structure record: {e}") from None
        return dec.decode(structure)
    return OrderedDict((k, dec.tensor(k, "cpu")) for k in sorted(records))

