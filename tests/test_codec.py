"""The value codec: round trips, what it refuses, and hostile payloads."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import torch

from autograder.sandbox import codec
from autograder.sandbox.codec import CodecError, CodecLimits, HandleRef


def roundtrip(value, **kwargs):
    wire = b"".join(bytes(c) for c in codec.encode(value))
    return codec.decode(bytearray(wire), **kwargs)


@pytest.mark.parametrize("value", [
    None, True, False, 0, -1, 2**62, -(2**63), 2**100, -(3**80), 1.5, float("inf"), -0.0,
    "", "héllo ✓", b"\x00\xff", [], (), {}, [1, [2, (3, "x")]], {"a": 1, 2: [None], (1, 2): b"z"},
])
def test_plain_values_round_trip(value):
    assert roundtrip(value) == value
    assert type(roundtrip(value)) is type(value)


def test_nan_round_trips():
    assert np.isnan(roundtrip(float("nan")))


@pytest.mark.parametrize("dtype", ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
                                   "uint32", "uint64", "float16", "float32", "float64",
                                   "complex64", "complex128"])
def test_arrays_keep_dtype_shape_and_values(dtype):
    arr = (np.arange(24).reshape(2, 3, 4) % 7).astype(dtype)
    out = roundtrip(arr)
    assert out.dtype == arr.dtype and out.shape == arr.shape
    np.testing.assert_array_equal(out, arr)
    assert out.flags.writeable


def test_non_contiguous_big_endian_and_empty_arrays():
    arr = np.arange(12.0).reshape(3, 4).T
    np.testing.assert_array_equal(roundtrip(arr), arr)
    big = np.arange(5, dtype=">i4")
    np.testing.assert_array_equal(roundtrip(big), big)
    assert roundtrip(np.zeros((0, 3))).shape == (0, 3)
    zero_d = roundtrip(np.array(7.5))
    assert isinstance(zero_d, np.ndarray) and zero_d.shape == () and zero_d == 7.5
    assert roundtrip(np.float32(2.5)) == 2.5  # numpy scalars become Python scalars


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16,
                                   torch.int64, torch.int32, torch.uint8, torch.bool,
                                   torch.complex64])
def test_tensors_keep_dtype_and_shape_and_are_detached(dtype):
    t = (torch.arange(6).reshape(2, 3) % 2).to(dtype)
    if dtype.is_floating_point:
        t = t.requires_grad_(True) * 1
    out = roundtrip(t)
    assert isinstance(out, torch.Tensor)
    assert out.dtype == dtype and out.shape == t.shape and not out.requires_grad
    assert torch.equal(out, t.detach())


def test_object_arrays_and_unknown_types_are_refused():
    with pytest.raises(CodecError, match="dtype object"):
        codec.encode(np.array([object()], dtype=object))
    with pytest.raises(CodecError, match="cannot be sent"):
        codec.encode({"f": lambda: 1})
    with pytest.raises(CodecError, match="cannot be sent"):
        codec.encode([set()])
    with pytest.raises(CodecError, match="dtype <U"):
        codec.encode(np.array(["a"]))


def test_unknown_objects_become_handles_when_allowed():
    objects = []

    def store(obj):
        objects.append(obj)
        return len(objects)

    marker = object()
    wire = b"".join(bytes(c) for c in codec.encode([1, marker], store))
    assert codec.decode(wire) == [1, HandleRef(1)]
    assert codec.decode(wire, on_handle=lambda i: objects[i - 1]) == [1, marker]


def test_encoding_refuses_deep_nesting():
    value = []
    for _ in range(150):
        value = [value]
    with pytest.raises(CodecError, match="nested too deeply"):
        codec.encode(value)


def _array_payload(dtype_id, shape, nbytes, data=b""):
    head = b"a" + bytes([dtype_id, len(shape)]) + b"".join(struct.pack("<Q", d) for d in shape)
    return head + struct.pack("<Q", nbytes) + data


@pytest.mark.parametrize("payload, message", [
    (b"", "truncated"),
    (b"Z", "unknown tag"),
    (b"i\x01", "truncated"),
    (b"s" + struct.pack("<Q", 2**40), "over the size limit"),
    (b"s" + struct.pack("<Q", 10) + b"abc", "truncated"),
    (b"s" + struct.pack("<Q", 2) + b"\xff\xfe", "invalid utf-8"),
    (b"l" + struct.pack("<I", 2**31), "too many items"),
    ((b"l" + struct.pack("<I", 1)) * 300, "nested too deeply"),
    (b"NN", "trailing bytes"),
    (_array_payload(99, (2,), 16), "unknown dtype id"),
    (_array_payload(11, (2**40, 2**40), 0), "over the size limit"),
    (_array_payload(11, (3,), 16, b"\x00" * 16), "does not match its shape"),
    (_array_payload(11, (2,), 16, b"\x00" * 8), "truncated"),
    (b"a\x0b\x40", "too many dimensions"),
    (b"d" + struct.pack("<I", 1) + b"l" + struct.pack("<I", 0) + b"N", "unhashable dict key"),
    (b"I" + struct.pack("<I", 10**6), "integer too large"),
])
def test_hostile_payloads_are_rejected_cleanly(payload, message):
    with pytest.raises(CodecError, match=message):
        codec.decode(bytearray(payload), limits=CodecLimits(max_items=10_000))


def test_big_array_is_not_copied_on_encode():
    arr = np.zeros(1_000_000)
    chunks = codec.encode(arr)
    assert any(isinstance(c, memoryview) and c.obj is not None and c.nbytes == arr.nbytes
               for c in chunks)
