"""The fork backend's control channel: one codec message per SOCK_SEQPACKET datagram.

File descriptors (a worker's channel and output pipe) travel with SCM_RIGHTS. Used by
the warm parent (``warm_parent``) and its trusted side (``fork_backend.WarmParent``).
"""

from __future__ import annotations

import socket

from autograder.sandbox import codec

CONTROL_MAX = 1 << 20


def send_control(sock: socket.socket, value, fds: list[int] | None = None) -> None:
    payload = b"".join(bytes(c) for c in codec.encode(value))
    if fds:
        socket.send_fds(sock, [payload], fds)
    else:
        sock.send(payload)


def recv_control(sock: socket.socket, maxfds: int = 0):
    if maxfds:
        data, fds, _flags, _addr = socket.recv_fds(sock, CONTROL_MAX, maxfds)
    else:
        data, fds = sock.recv(CONTROL_MAX), []
    if not data:
        raise EOFError
    return codec.decode(data), fds
