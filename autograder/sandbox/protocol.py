"""Message framing over a stream socket: an 8-byte little-endian length, then a codec body.

Both sides use these helpers. The protocol is strictly request/reply, so at
most one message is ever in flight in each direction: bytes beyond the
message being read are a protocol violation.

Small messages (the common case: a call with a few scalars) are read with one
``recv`` into a reusable buffer; big ones are read into one preallocated
``bytearray``, so arrays decode as views without another copy.

Deadlines wait in ``poll`` where the OS has it and in ``select`` elsewhere (Windows),
so the same framing serves an AF_UNIX socket pair and a loopback TCP connection.
"""

from __future__ import annotations

import select
import socket
import struct
import time
from typing import Any

from autograder.sandbox import codec

_HEADER = struct.Struct("<Q")
MAX_MESSAGE_BYTES = 2 * 2**30
_SMALL = 1 << 16
SPIN_SECONDS = 100e-6  # how long the grader retries a non-blocking read before it sleeps


class ChannelClosed(EOFError):
    """The peer closed the connection (or died) before a full message arrived."""


class ChannelTimeout(TimeoutError):
    """No full message arrived before the deadline."""


class ProtocolError(codec.CodecError):
    """The peer sent bytes that are not one well-formed message."""


def send_message(sock: socket.socket, value: Any, on_unknown=None,
                 deadline: float | None = None) -> None:
    """Encode ``value`` and write it as one framed message.

    ``deadline`` (a ``time.monotonic()`` value; for a non-blocking socket) bounds the wait
    for a peer that stops reading: past it, ``ChannelTimeout``. Without it a peer that never
    reads blocks the sender once the socket's buffer is full.
    """
    chunks = codec.encode(value, on_unknown)
    if len(chunks) < 64 and all(type(c) is bytes for c in chunks):  # the common small case
        body = b"".join(chunks)
        _send_all(sock, _HEADER.pack(len(body)) + body, deadline)
        return
    total = sum(len(c) for c in chunks)
    if total > MAX_MESSAGE_BYTES:
        raise codec.CodecError(f"message of {total} bytes is over the {MAX_MESSAGE_BYTES} limit")
    pending = bytearray(_HEADER.pack(total))
    # Coalesce small chunks so a small call is one send, and stream big ones unchanged.
    for chunk in chunks:
        if len(chunk) < _SMALL:
            pending += chunk
        else:
            if pending:
                _send_all(sock, pending, deadline)
                pending = bytearray()
            _send_all(sock, chunk, deadline)
    if pending:
        _send_all(sock, pending, deadline)


def _send_all(sock: socket.socket, data, deadline: float | None) -> None:
    view = memoryview(data).cast("B")
    while view:
        try:
            sent = sock.send(view)
        except BlockingIOError:
            timeout = None
            if deadline is not None:
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    raise ChannelTimeout() from None
            select.select([], [sock], [], timeout)
            continue
        except ConnectionError as exc:  # reset, broken pipe: the peer is gone
            raise ChannelClosed() from exc
        view = view[sent:]


class Receiver:
    """Reads framed messages from one socket, with an optional deadline per message."""

    def __init__(self, sock: socket.socket, limits: codec.CodecLimits = codec.DEFAULT_LIMITS,
                 max_bytes: int = MAX_MESSAGE_BYTES, deadlines: bool = True):
        """``deadlines=False`` (the worker's side) blocks in ``recv`` without polling."""
        self.sock = sock
        self.limits = limits
        self.max_bytes = max_bytes
        self.buffer = bytearray(_SMALL)
        self.deadlines = deadlines
        self.poller = select.poll() if deadlines and hasattr(select, "poll") else None
        if self.poller is not None:
            self.poller.register(sock, select.POLLIN)
        sock.setblocking(not deadlines)

    def _wait_readable(self, deadline: float | None) -> None:
        while True:
            timeout = None
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ChannelTimeout()
                timeout = max(0.001, remaining)
            if self.poller is None:  # no poll() here (Windows): select() works on sockets
                if select.select([self.sock], [], [], timeout)[0]:
                    return
            elif self.poller.poll(None if timeout is None else int(timeout * 1000 + 0.999)):
                return

    def _recv_into(self, view: memoryview, deadline: float | None) -> int:
        spin_until = time.perf_counter() + SPIN_SECONDS if self.deadlines else 0.0
        while True:
            try:
                n = self.sock.recv_into(view)
            except BlockingIOError:
                # A small call answers in tens of microseconds: retrying briefly beats
                # sleeping in poll() and paying the wake-up on the other core.
                if time.perf_counter() < spin_until:
                    continue
                self._wait_readable(deadline)
                continue
            except ConnectionError as exc:  # reset, aborted (Windows), broken pipe
                raise ChannelClosed() from exc
            if n == 0:
                raise ChannelClosed()
            return n

    def receive(self, deadline: float | None = None, on_handle=None) -> Any:
        """Read one message and decode it. ``deadline`` is a ``time.monotonic()`` value."""
        view = memoryview(self.buffer)
        got = 0
        while got < _HEADER.size:
            got += self._recv_into(view[got:], deadline)
        (length,) = _HEADER.unpack_from(self.buffer)
        if length > self.max_bytes:
            raise ProtocolError(f"incoming message of {length} bytes is over the limit")
        end = _HEADER.size + length
        if got > end:
            raise ProtocolError("the peer sent more than one message")
        if got == end:  # the whole message arrived with the first read
            return codec.decode(self.buffer[_HEADER.size : end], on_handle, self.limits)
        body = bytearray(length)
        body_view = memoryview(body)
        body_view[: got - _HEADER.size] = view[_HEADER.size : got]
        filled = got - _HEADER.size
        while filled < length:
            filled += self._recv_into(body_view[filled:], deadline)
        return codec.decode(body, on_handle, self.limits)
