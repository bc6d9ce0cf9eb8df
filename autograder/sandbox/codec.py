"""Value codec between the trusted grader and the sandboxed worker.

Values cross the process boundary *by value*, in a small tagged binary format.
Nothing here uses pickle or marshal, so decoding a hostile payload can only ever
produce plain data: None, bool, int, float, str, bytes, lists, tuples, dicts,
numpy arrays of numeric/bool dtype, and CPU torch tensors. Anything else is
either turned into a *handle* (an integer id naming an object that stays on the
sending side) by the ``on_unknown`` callback, or rejected with ``CodecError``.

Wire format (little-endian), one tag byte then a payload:

    N none | T true | F false | i int64 | I big int (u32 len, signed bytes)
    f float64 | s str (u64 len, utf-8) | b bytes (u64 len)
    l list / t tuple (u32 count, items) | d dict (u32 count, key, value, ...)
    a ndarray (u8 dtype id, u8 ndim, u64 shape..., raw C-order data)
    p torch tensor (same as ndarray, dtype id from the torch table)
    h handle (u64 id)

Bounds (``CodecLimits``) are checked while decoding, before any allocation that
depends on the payload: nesting depth, container items, string/bytes length,
array elements and total size.
"""

from __future__ import annotations

import struct
import sys
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["CodecError", "CodecLimits", "HandleRef", "encode", "decode"]


class CodecError(ValueError):
    """A value cannot be encoded, or a payload is malformed or over the limits."""


@dataclass(frozen=True)
class CodecLimits:
    """The codec's size bounds, applied to every decoded payload (bytes, items, levels).

    Not an assignment's resource limits for the submission: those are ``config.Limits``.
    """

    max_depth: int = 100
    max_items: int = 1_000_000  # container entries in one message, all containers together
    max_str_bytes: int = 64 * 2**20
    max_array_bytes: int = 1 * 2**30
    max_ndim: int = 16


DEFAULT_LIMITS = CodecLimits()


@dataclass(frozen=True)
class HandleRef:
    """A decoded handle: the id of an object that lives on the other side."""

    id: int


# dtype tables: the only dtypes that may cross. Index = wire id.
_NUMPY_DTYPES = [
    np.dtype("bool"),
    np.dtype("<i1"), np.dtype("<i2"), np.dtype("<i4"), np.dtype("<i8"),
    np.dtype("<u1"), np.dtype("<u2"), np.dtype("<u4"), np.dtype("<u8"),
    np.dtype("<f2"), np.dtype("<f4"), np.dtype("<f8"),
    np.dtype("<c8"), np.dtype("<c16"),
]
_NUMPY_DTYPE_ID = {dt: i for i, dt in enumerate(_NUMPY_DTYPES)}
# torch dtypes by name -> (wire id, numpy dtype used to carry the bytes)
_TORCH_DTYPES = [
    ("bool", "bool"), ("int8", "<i1"), ("int16", "<i2"), ("int32", "<i4"), ("int64", "<i8"),
    ("uint8", "<u1"), ("float16", "<f2"), ("float32", "<f4"), ("float64", "<f8"),
    ("complex64", "<c8"), ("complex128", "<c16"), ("bfloat16", "<i2"),
]
_TORCH_DTYPE_ID = {name: i for i, (name, _) in enumerate(_TORCH_DTYPES)}

_U8 = struct.Struct("<B")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_I64 = struct.Struct("<q")
_F64 = struct.Struct("<d")

_SIMPLE_DICT_KEYS = (str, int, float, bool, type(None), bytes)


_torch_module = None


def _torch():
    """The torch module if it has been imported (the codec never imports it to encode).

    The reference is kept once seen, so that a worker which later hides torch
    from the submission (a banned module) still encodes and decodes tensors.
    """
    global _torch_module
    if _torch_module is None:
        _torch_module = sys.modules.get("torch")
    return _torch_module


# --------------------------------------------------------------------------- encode


def encode(
    value: Any,
    on_unknown: Callable[[Any], int] | None = None,
    max_depth: int = DEFAULT_LIMITS.max_depth,
) -> list[bytes | memoryview]:
    """Encode ``value`` into a list of byte chunks (large arrays are not copied).

    ``on_unknown(obj) -> handle id`` is called for objects the codec cannot
    carry; without it such objects raise ``CodecError``.
    """
    out: list[bytes | memoryview] = []
    _encode(value, out, on_unknown, max_depth)
    return out


def _encode(value: Any, out: list, on_unknown, depth: int) -> None:
    if depth < 0:
        raise CodecError("value is nested too deeply to send")
    kind = type(value)
    # Exact built-in types first: they make up most messages (dicts only ever here:
    # a dict subclass is an object, sent as a handle).
    if kind is str:
        raw = value.encode("utf-8", "surrogatepass")
        out.append(b"s" + _U64.pack(len(raw)) + raw)
        return
    if kind is dict or kind is OrderedDict:  # state_dict() is an OrderedDict
        out.append(b"d" + _U32.pack(len(value)))
        for key, item in value.items():
            if not isinstance(key, _SIMPLE_DICT_KEYS) and type(key) is not tuple:
                raise CodecError(f"dict key of type {type(key).__name__} cannot be sent")
            _encode(key, out, on_unknown, depth - 1)
            _encode(item, out, on_unknown, depth - 1)
        return
    if kind is int and -(2**63) <= value < 2**63:
        out.append(b"i" + _I64.pack(value))
        return
    if kind is float:
        out.append(b"f" + _F64.pack(value))
        return
    if value is None:
        out.append(b"N")
    elif value is True:
        out.append(b"T")
    elif value is False:
        out.append(b"F")
    elif isinstance(value, HandleRef):
        out.append(b"h" + _U64.pack(value.id))
    elif type(value) is int or (isinstance(value, int) and not isinstance(value, bool)):
        value = int(value)
        if -(2**63) <= value < 2**63:
            out.append(b"i" + _I64.pack(value))
        else:
            raw = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
            if len(raw) > 4096:
                raise CodecError("integer too large to send")
            out.append(b"I" + _U32.pack(len(raw)) + raw)
    elif isinstance(value, float):
        out.append(b"f" + _F64.pack(float(value)))
    elif isinstance(value, str):
        raw = value.encode("utf-8", "surrogatepass")
        out.append(b"s" + _U64.pack(len(raw)) + raw)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        out.append(b"b" + _U64.pack(len(raw)) + raw)
    elif isinstance(value, np.ndarray):
        _encode_array(value, out)
    elif isinstance(value, np.generic) and value.dtype.kind in "biufc":
        _encode(value.item(), out, on_unknown, depth)
    elif _is_tensor(value):
        _encode_tensor(value, out)
    elif type(value) in (list, tuple):
        out.append((b"l" if type(value) is list else b"t") + _U32.pack(len(value)))
        for item in value:
            _encode(item, out, on_unknown, depth - 1)
    elif on_unknown is not None:
        out.append(b"h" + _U64.pack(on_unknown(value)))
    else:
        raise CodecError(
            f"a value of type {type(value).__module__}.{type(value).__qualname__} cannot be sent"
        )


def _is_tensor(value: Any) -> bool:
    torch = _torch()
    return torch is not None and isinstance(value, torch.Tensor)


def _encode_array(arr: np.ndarray, out: list) -> None:
    dtype = arr.dtype.newbyteorder("<") if arr.dtype.byteorder == ">" else arr.dtype
    dtype_id = _NUMPY_DTYPE_ID.get(np.dtype(dtype.str))
    if dtype_id is None:
        raise CodecError(f"arrays of dtype {arr.dtype} cannot be sent")
    target = _NUMPY_DTYPES[dtype_id]
    if arr.dtype != target or not arr.flags.c_contiguous or type(arr) is not np.ndarray:
        arr = np.array(arr, dtype=target, order="C", subok=False)  # keeps 0-d arrays 0-d
    _encode_raw(b"a", dtype_id, arr.shape, arr, out)


def _encode_tensor(tensor: Any, out: list) -> None:
    torch = _torch()
    name = str(tensor.dtype).removeprefix("torch.")
    dtype_id = _TORCH_DTYPE_ID.get(name)
    if dtype_id is None:
        raise CodecError(f"tensors of dtype {tensor.dtype} cannot be sent")
    t = tensor.detach()
    if t.device.type != "cpu":
        t = t.cpu()
    if t.is_sparse or t.layout != torch.strided:
        t = t.to_dense()
    t = t.contiguous()
    if name == "bfloat16":
        t = t.view(torch.int16)
    if t.is_conj():
        t = t.resolve_conj()
    arr = t.numpy()
    _encode_raw(b"p", dtype_id, tuple(tensor.shape), arr, out)


def _encode_raw(tag: bytes, dtype_id: int, shape: tuple, arr: np.ndarray, out: list) -> None:
    if len(shape) > 255:
        raise CodecError("too many dimensions")
    header = tag + _U8.pack(dtype_id) + _U8.pack(len(shape)) + b"".join(_U64.pack(d) for d in shape)
    out.append(header + _U64.pack(arr.nbytes))
    if arr.nbytes:
        out.append(memoryview(arr).cast("B"))


# --------------------------------------------------------------------------- decode


def decode(
    buf: bytes | bytearray | memoryview,
    on_handle: Callable[[int], Any] | None = None,
    limits: CodecLimits = DEFAULT_LIMITS,
) -> Any:
    """Decode one value from ``buf``; the whole buffer must be consumed.

    Arrays are views into ``buf`` when it is a writable bytearray (no copy).
    ``on_handle(id)`` maps handle ids to objects; without it they decode to
    ``HandleRef``.
    """
    dec = _Decoder(memoryview(buf).cast("B"), on_handle, limits)
    value = dec.value(limits.max_depth)
    if dec.pos != dec.end:
        raise CodecError("trailing bytes after the value")
    return value


_TAG_N, _TAG_T, _TAG_F, _TAG_i, _TAG_I, _TAG_f = (ord(c) for c in "NTFiIf")
_TAG_s, _TAG_b, _TAG_l, _TAG_t, _TAG_d, _TAG_a, _TAG_p, _TAG_h = (ord(c) for c in "sbltdaph")


class _Decoder:
    """A recursive-descent decoder over one buffer; every read is bounds-checked."""

    def __init__(self, buf: memoryview, on_handle, limits: CodecLimits):
        self.buf = buf
        self.end = len(buf)
        self.pos = 0
        self.on_handle = on_handle
        self.limits = limits
        self.items = 0

    def take(self, n: int) -> memoryview:
        pos = self.pos
        if n < 0 or pos + n > self.end:
            raise CodecError("truncated payload")
        self.pos = pos + n
        return self.buf[pos : pos + n]

    def unpack(self, st: struct.Struct):
        pos = self.pos
        if pos + st.size > self.end:
            raise CodecError("truncated payload")
        self.pos = pos + st.size
        return st.unpack_from(self.buf, pos)[0]

    def count_items(self, n: int) -> None:
        self.items += n
        if self.items > self.limits.max_items:
            raise CodecError("too many items in one message")

    def value(self, depth: int) -> Any:
        if depth < 0:
            raise CodecError("payload nested too deeply")
        pos = self.pos
        if pos >= self.end:
            raise CodecError("truncated payload")
        tag = self.buf[pos]
        self.pos = pos + 1
        if tag == _TAG_i:
            return self.unpack(_I64)
        if tag == _TAG_s or tag == _TAG_b:
            n = self.unpack(_U64)
            if n > self.limits.max_str_bytes:
                raise CodecError("string or bytes over the size limit")
            raw = bytes(self.take(n))
            if tag == _TAG_b:
                return raw
            try:
                return raw.decode("utf-8", "surrogatepass")
            except UnicodeDecodeError as exc:
                raise CodecError("invalid utf-8 in a string") from exc
        if tag == _TAG_d:
            n = self.unpack(_U32)
            self.count_items(n)
            result = {}
            for _ in range(n):
                key = self.value(depth - 1)
                try:
                    hash(key)
                except TypeError as exc:
                    raise CodecError("unhashable dict key") from exc
                result[key] = self.value(depth - 1)
            return result
        if tag == _TAG_l or tag == _TAG_t:
            n = self.unpack(_U32)
            self.count_items(n)
            items = [self.value(depth - 1) for _ in range(n)]
            return items if tag == _TAG_l else tuple(items)
        if tag == _TAG_N:
            return None
        if tag == _TAG_T:
            return True
        if tag == _TAG_F:
            return False
        if tag == _TAG_f:
            return self.unpack(_F64)
        if tag == _TAG_h:
            hid = self.unpack(_U64)
            return self.on_handle(hid) if self.on_handle else HandleRef(hid)
        if tag == _TAG_a or tag == _TAG_p:
            return self.array(tag == _TAG_p)
        if tag == _TAG_I:
            n = self.unpack(_U32)
            if n > 4096:
                raise CodecError("integer too large")
            return int.from_bytes(self.take(n), "little", signed=True)
        raise CodecError(f"unknown tag {bytes([tag])!r}")

    def array(self, is_tensor: bool) -> Any:
        dtype_id = self.unpack(_U8)
        table = _TORCH_DTYPES if is_tensor else _NUMPY_DTYPES
        if dtype_id >= len(table):
            raise CodecError("unknown dtype id")
        dtype = np.dtype(table[dtype_id][1]) if is_tensor else table[dtype_id]
        ndim = self.unpack(_U8)
        if ndim > self.limits.max_ndim:
            raise CodecError("too many dimensions")
        shape = tuple(self.unpack(_U64) for _ in range(ndim))
        nbytes = self.unpack(_U64)
        count = 1
        for dim in shape:
            count *= dim
            if count * dtype.itemsize > self.limits.max_array_bytes:
                raise CodecError("array over the size limit")
        if count * dtype.itemsize != nbytes:
            raise CodecError("array size does not match its shape")
        data = self.take(nbytes)
        arr = np.frombuffer(data, dtype=dtype, count=count).reshape(shape)
        if not arr.flags.writeable:
            arr = arr.copy()
        if not is_tensor:
            return arr
        torch = _torch()
        if torch is None:
            import torch
        name = _TORCH_DTYPES[dtype_id][0]
        tensor = torch.from_numpy(arr)
        if name == "bfloat16":
            tensor = tensor.view(torch.bfloat16)
        return tensor
