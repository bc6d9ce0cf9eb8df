"""``dlgrade submit``: send the assignment's modules to a course server (``dlgrade serve``)
and wait for the public tests' results. Standard library only: students need nothing more.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from autograder.errors import UsageError


class ServerError(UsageError):
    """The server refused the request or could not be reached (its message is shown)."""


def _multipart(files: dict[str, bytes]) -> tuple[bytes, str]:
    boundary = "dlgrade-" + secrets.token_hex(12)
    parts = []
    for name, data in files.items():
        parts.append((f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                      f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                      ).encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), boundary


def _request(url: str, token: str, data: bytes | None = None,
             content_type: str | None = None) -> dict[str, Any]:
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Accept", "application/json")
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("error") or exc.reason
        except ValueError:
            message = exc.reason
        raise ServerError(f"the server said: {message} (HTTP {exc.code})") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ServerError(f"cannot reach {url}: {getattr(exc, 'reason', exc)}") from None


def collect_files(folder: Path, modules: tuple[str, ...]) -> dict[str, bytes]:
    """The assignment's modules from ``folder``.

    Raises:
        UsageError: naming the modules that are not there.
    """
    missing = [m for m in modules if not (folder / m).is_file()]
    if missing:
        raise UsageError(f"not found in {folder}: {', '.join(missing)} (run dlgrade submit "
                         "in the folder that holds your modules)")
    return {m: (folder / m).read_bytes() for m in modules}


def submit(server: str, token: str, assignment: str, files: dict[str, bytes], *,
           wait: float = 300.0, poll: float = 2.0) -> dict[str, Any]:
    """Submit and wait (up to ``wait`` seconds) for the results; returns the submission's
    view as the server gives it (its state is ``queued`` or ``running`` if time ran out).

    Asks again after the server's ``poll_after`` (longer the further back in the queue),
    and never sooner than ``poll`` seconds, which stays within the server's default rate
    limit (60 requests a minute per account) however long the queue is."""
    server = server.rstrip("/")
    body, boundary = _multipart(files)
    accepted = _request(f"{server}/api/v1/assignments/{assignment}/submissions", token, body,
                        f"multipart/form-data; boundary={boundary}")
    deadline = time.monotonic() + wait
    while True:
        view = _request(f"{server}/api/v1/submissions/{accepted['id']}", token)
        left = deadline - time.monotonic()
        if view["state"] in ("done", "failed") or left <= 0:
            return view
        time.sleep(min(max(poll, view.get("poll_after") or poll), left + 0.01))


def render_view(view: dict[str, Any]) -> str:
    """The results as a terminal table."""
    lines = [f"submission {view['id']} of {view['assignment']}: {view['state']}"]
    if view["state"] == "queued":
        lines.append(f"  {view['queue_position']} ahead of yours; see {view.get('url', '')}")
    if view.get("error"):
        lines.append(f"  could not be graded: {view['error']}")
    for test in view.get("tests", []):
        mark = "PASS" if test["status"] == "passed" else "FAIL"
        lines.append(f"  {test['name']:<50} {test['score']:g}/{test['max_score']:g}  {mark}")
    if view.get("public_score") is not None:
        lines.append(f"public tests: {view['public_score']:g} / {view['public_max']:g}")
    if view.get("score") is not None:
        lines.append(f"total: {view['score']:g} / {view['max_score']:g}")
    return "\n".join(lines)
