"""Message framing over a stream socket: an 8-byte little-endian length, then a codec body.

Both sides use these helpers. Receiving reads into one preallocated
``bytearray`` so that arrays decode as views without another copy.
"""

from __future__ import annotations

import socket
import struct
import time
from typing import Any

from autograder.sandbox import codec

_HEADER = struct.Struct("<Q")
MAX_MESSAGE_BYTES = 2 * 2**30


class ChannelClosed(EOFError):
    """The peer closed the connection (or died) before a full message arrived."""


class ChannelTimeout(TimeoutError):
    """No full message arrived before the deadline."""


def send_message(sock: socket.socket, value: Any, on_unknown=None) -> None:
    """Encode ``value`` and write it as one framed message."""
    chunks = codec.encode(value, on_unknown)
    total = sum(len(c) for c in chunks)
    if total > MAX_MESSAGE_BYTES:
        raise codec.CodecError(f"message of {total} bytes is over the {MAX_MESSAGE_BYTES} limit")
    small: list[bytes | memoryview] = [_HEADER.pack(total)]
    # Coalesce small chunks so a small call is one sendall, and stream big ones unchanged.
    pending = bytearray(small[0])
    for chunk in chunks:
        if len(chunk) < 65536:
            pending += chunk
        else:
            if pending:
                sock.sendall(pending)
                pending = bytearray()
            sock.sendall(chunk)
    if pending:
        sock.sendall(pending)


def _recv_exact(sock: socket.socket, view: memoryview, deadline: float | None) -> None:
    got = 0
    while got < len(view):
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ChannelTimeout()
            sock.settimeout(remaining)
        else:
            sock.settimeout(None)
        try:
            n = sock.recv_into(view[got:])
        except TimeoutError as exc:
            raise ChannelTimeout() from exc
        except (ConnectionResetError, BrokenPipeError) as exc:
            raise ChannelClosed() from exc
        if n == 0:
            raise ChannelClosed()
        got += n


def recv_message(
    sock: socket.socket,
    deadline: float | None = None,
    on_handle=None,
    limits: codec.Limits = codec.DEFAULT_LIMITS,
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> Any:
    """Read one framed message and decode it. ``deadline`` is a ``time.monotonic()`` value."""
    header = bytearray(_HEADER.size)
    _recv_exact(sock, memoryview(header), deadline)
    (length,) = _HEADER.unpack(header)
    if length > max_bytes:
        raise codec.CodecError(f"incoming message of {length} bytes is over the limit")
    body = bytearray(length)
    _recv_exact(sock, memoryview(body), deadline)
    return codec.decode(body, on_handle, limits)
