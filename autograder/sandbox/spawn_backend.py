"""The spawn worker backend (every OS): workers started fresh, no fork, no SOCK_SEQPACKET.

Each worker is ``python -m autograder.sandbox.spawn_worker`` (``subprocess``, scrubbed
environment, its own session or process group). It connects back over loopback TCP and
presents a one-time token that it read from its stdin, so no other local process can
pose as it; the same code runs on Windows, macOS and Linux. After that it speaks the fork
worker's framing and codec and serves the same ``worker.Dispatcher``, so ``Submission``
proxies and the autograd probe work unchanged (``client.WorkerConnection``).

**Spares.** Starting Python and importing numpy (and torch) is what a spawned worker
costs, so the backend keeps spares: processes started ahead, with their imports done or
under way, that learn their submission only when they are handed out
(``spawn_worker``'s ``{"spec", "plan"}``). A spare's start overlaps the tests that run
meanwhile. A backend that reuses workers starts one spare at first and another only once
it has handed out a second worker (a second submission, or a replacement for a worker that
crashed or timed out): a one-shot ``dlgrade check`` needs one worker, and a spare it never
used would only compete with grading for the CPU.

**One worker per submission, decided by measurement** (``benchmarks/sandbox_overhead.py``).
A fresh spawned worker per test, even started ahead as a spare, costs a Python start and
numpy's import for every test: a whole submission of 02-feedforward took well over twice
the fork worker's time (the target), because those starts need more CPU than the tests
themselves; with torch, seconds to import, it would take many times longer still. So by default one worker serves
all the tests of a submission: between tests it is reset (``WorkerDispatcher.reset``: the
student's modules imported anew, handles dropped, generators reseeded, torch's and numpy's
defaults, working folder, environment and ``sys.path`` restored) and every process the
test left running is killed. That keeps a submission near the fork worker's time, but it is
not a fresh process, so ``fresh-worker-per-test`` is not claimed (a monkeypatched library or
a thread left running would survive into the next test). A worker that timed out, crashed
or misbehaved is always replaced. ``SpawnBackend(reuse=False)`` gives every test a fresh
process (and claims the protection) where that matters more than time.

**Confinement.** The plan is decided once per backend: on Linux with fork,
``limits.probe_plan`` (forked trial workers, as the fork backend does); elsewhere a spawned
trial worker confines itself with whatever works (``limits.confine`` with no plan) and the
backend adopts what it reports. Every worker then applies exactly that plan. Timeouts and
releases kill the worker's whole process tree (``proctree``).
"""

from __future__ import annotations

import hmac
import json
import os
import queue
import secrets
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

from autograder.errors import StudentException, WorkerCrashed, WorkerTimeout
from autograder.sandbox import codec, limits, proctree, protocol
from autograder.sandbox import protections as P
from autograder.sandbox.client import OutputBuffer, WorkerConnection, describe_exit
from autograder.sandbox.environment import worker_environment
from autograder.sandbox.limits import WorkerSpec

START_TIMEOUT = 180.0  # seconds for a worker to start: Python, numpy, torch on a busy machine
RESET_TIMEOUT = 30.0  # seconds for a reused worker to reset between tests
HELLO_TIMEOUT = 10.0  # seconds for a connection to present its token
MAX_IDLE = 2  # reused workers kept between tests, least recently used dropped first
CONTROL_LIMITS = codec.CodecLimits(max_depth=10, max_items=10_000, max_str_bytes=1 << 16,
                                   max_array_bytes=0)
PRELOAD_OUTPUT = 64 * 1024  # bytes of a spare's start-up output kept for a failure message


@dataclass
class _Process:
    """A worker process: started (a spare) or bound to a submission."""

    process: subprocess.Popen
    listener: socket.socket | None
    token: str
    output: OutputBuffer
    sock: socket.socket | None = None
    key: str = ""  # _spec_key of its submission, once bound

    @property
    def pid(self) -> int:
        return self.process.pid


def _spec_key(spec: WorkerSpec) -> str:
    """What a reused worker must share with the next test's spec: everything but the seed."""
    wire = spec.to_wire()
    wire.pop("seed", None)
    return json.dumps(wire, sort_keys=True)


class SpawnBackend:
    """Spawned workers for one grading process (``backend.WorkerBackend``). Thread-safe.

    Args:
        with_torch: workers import torch ahead (else numpy only).
        reuse: one worker serves all tests of a submission (see the module's docstring for
            why that is the default); ``False``: a fresh worker per test.
        spares: workers kept started ahead (default: 1 reused, 2 fresh per test).
    """

    kind = "spawn"

    def __init__(self, with_torch: bool = True, reuse: bool = True, spares: int | None = None,
                 exclude: frozenset[str] = frozenset()):
        """``exclude``: protections its workers go without even where the machine has them
        (a test that runs workers on Linux as they run on macOS, with no syscall filter)."""
        self.with_torch = with_torch
        self.reuse = reuse
        self.spares = (1 if self.reuse else 2) if spares is None else spares
        self._lock = threading.Lock()
        self._closed = False
        self._spare: list[_Process] = []
        self._idle: list[_Process] = []  # reused workers between tests
        self._live: dict[int, _Process] = {}
        self._taken = 0  # workers handed their first submission so far
        self._plan: tuple[frozenset[str], list[str]] | None = None
        self._plan_lock = threading.Lock()
        self._trial: tuple[_Process, str] | None = None
        if sys.platform.startswith("linux") and hasattr(os, "fork"):
            self._plan = limits.probe_plan(None, None, exclude=exclude)  # before any thread
        else:
            self._trial = self._start_trial()
        self._discards: queue.SimpleQueue[_Process | None] = queue.SimpleQueue()
        self._reaper = threading.Thread(target=self._reap_discarded, daemon=True)
        self._reaper.start()
        self._fill_spares()

    # ------------------------------------------------------------------ starting processes

    def _start(self, preload: str) -> _Process:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        token = secrets.token_hex(16)
        out_r, out_w = os.pipe()
        if os.name == "posix":
            group = {"start_new_session": True}
        else:
            group = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP
                     | getattr(subprocess, "CREATE_NO_WINDOW", 0)}
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "autograder.sandbox.spawn_worker", preload],
                stdin=subprocess.PIPE, stdout=out_w, stderr=out_w, env=worker_environment(),
                cwd=os.path.abspath(os.sep), close_fds=True, **group)
        except BaseException:
            os.close(out_r)
            listener.close()
            raise
        finally:
            os.close(out_w)
        try:
            process.stdin.write(f"{listener.getsockname()[1]} {token}\n".encode("ascii"))
            process.stdin.close()
        except OSError:
            pass  # it died already: binding it says how
        return _Process(process, listener, token, OutputBuffer(out_r, PRELOAD_OUTPUT))

    def _fill_spares(self) -> None:
        with self._lock:
            if self._closed:
                return
            for dead in [s for s in self._spare if s.process.poll() is not None]:
                self._spare.remove(dead)
                self._discard(dead)
            missing = self.spares - len(self._spare)
        for _ in range(missing):
            started = self._start("torch" if self.with_torch else "numpy")
            with self._lock:
                if self._closed:
                    self._discard(started)
                else:
                    self._spare.append(started)

    def _take_spare(self) -> _Process:
        """The oldest live spare (the most likely to be ready), else a process started now."""
        with self._lock:
            spare = None
            while self._spare and spare is None:
                spare = self._spare.pop(0)
                if spare.process.poll() is not None:  # died while waiting: start another
                    self._discard(spare)
                    spare = None
            self._taken += 1
            keep_spares = not self.reuse or self._taken > 1
        if spare is None:
            spare = self._start("torch" if self.with_torch else "numpy")
        if keep_spares:
            self._fill_spares()
        return spare

    def _accept(self, started: _Process, deadline: float) -> socket.socket:
        """The connection of ``started``: the first one on its port that shows its token."""
        listener = started.listener
        while True:
            if started.process.poll() is not None:
                raise protocol.ChannelClosed()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise protocol.ChannelTimeout()
            if not select.select([listener], [], [], min(remaining, 0.05))[0]:
                continue
            sock, _ = listener.accept()
            try:
                hello = protocol.Receiver(sock, CONTROL_LIMITS, max_bytes=1024).receive(
                    min(deadline, time.monotonic() + HELLO_TIMEOUT))
            except (protocol.ChannelClosed, protocol.ChannelTimeout, codec.CodecError, OSError):
                hello = None
            token = hello.get("token") if type(hello) is dict else None
            if type(token) is str and hmac.compare_digest(token, started.token):
                listener.close()
                started.listener = None
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return sock
            sock.close()

    def _bind(self, started: _Process, spec: WorkerSpec,
              plan: frozenset[str] | None) -> list[str]:
        """Give ``started`` its submission and wait until it is confined; its protections.

        Raises:
            RuntimeError: it could not start or confine itself (a platform problem).
        """
        deadline = time.monotonic() + START_TIMEOUT
        try:
            started.sock = self._accept(started, deadline)
            protocol.send_message(started.sock, {
                "spec": spec.to_wire(), "plan": None if plan is None else sorted(plan),
                "reuse": self.reuse}, deadline=deadline)
            reply = protocol.Receiver(started.sock, CONTROL_LIMITS).receive(deadline)
            if type(reply) is not dict or type(reply.get("ready")) is not list:
                raise codec.CodecError("not a ready message")
        except (protocol.ChannelClosed, protocol.ChannelTimeout, codec.CodecError,
                OSError) as exc:
            status = self._stop(started)
            late = " (it did not start in time)" if isinstance(exc, protocol.ChannelTimeout) else ""
            tail = started.output.text().strip()[-2000:]
            raise RuntimeError(f"the sandbox could not start a worker: {status}{late}"
                               + (f"\n{tail}" if tail else "")) from None
        started.key = _spec_key(spec)
        return [str(name) for name in reply["ready"]]

    # ------------------------------------------------------------------ the plan

    def _start_trial(self) -> tuple[_Process, str]:
        scratch = tempfile.mkdtemp(prefix="dlgrade-trial-")
        return self._start("bare"), scratch

    def _decide(self) -> tuple[frozenset[str], list[str]]:
        with self._plan_lock:
            if self._plan is None:
                trial, scratch = self._trial
                try:
                    found = self._bind(trial, WorkerSpec(submission_dir=scratch, modules=[]), None)
                    self._plan = frozenset(found), []
                    self._stop(trial)
                except RuntimeError as exc:
                    self._plan = (frozenset({P.PYTHON_SOCKET_BLOCK}),
                                  [f"a trial worker could not confine itself: {exc}"])
                finally:
                    shutil.rmtree(scratch, ignore_errors=True)
            return self._plan

    # ------------------------------------------------------------------ WorkerBackend

    def protections(self) -> list[str]:
        """The protections its workers run under: the plan, and how workers are started."""
        plan, _ = self._decide()
        fresh = [] if self.reuse else [P.FRESH_WORKER_PER_TEST]
        return P.ordered([P.SEPARATE_PROCESS, P.VALUE_CODEC, P.PROCESS_TREE_KILL, *fresh, *plan])

    def notes(self) -> list[str]:
        """Why protections were given up: the plan's notes, and reuse where it applies."""
        _, notes = self._decide()
        if self.reuse:
            notes = [*notes, f"{P.FRESH_WORKER_PER_TEST} is off: starting a spawned worker "
                     "(Python, numpy, torch) for every test costs more than the tests, so one "
                     "worker serves all the tests of a submission and is reset between them"]
        return list(notes)

    def alive(self) -> bool:
        return not self._closed

    def spawn(self, spec: WorkerSpec, max_output: int = 64 * 1024) -> WorkerConnection:
        """A worker for one test: a reused one of the same submission, else a spare."""
        plan, _ = self._decide()
        if self.reuse:
            conn = self._reuse(spec, max_output)
            if conn is not None:
                return conn
        started = self._take_spare()
        self._bind(started, spec, plan)
        return self._hand_out(started, spec, max_output)

    def _hand_out(self, worker: _Process, spec: WorkerSpec, max_output: int) -> WorkerConnection:
        worker.output.restart(max_output)
        with self._lock:
            self._live[worker.pid] = worker
        return WorkerConnection(self, worker.pid, worker.sock, worker.output, max_output,
                                keep_channel=self.reuse, max_reply_bytes=spec.memory_mb * 2**20)

    def _reuse(self, spec: WorkerSpec, max_output: int) -> WorkerConnection | None:
        """An idle worker of this submission, reset for the test; ``None`` if there is none."""
        key = _spec_key(spec)
        with self._lock:
            # a worker whose scratch folder is gone served a submission that is finished
            gone = [w for w in self._idle if not os.path.isdir(json.loads(w.key)["submission_dir"])]
            for w in gone:
                self._idle.remove(w)
                self._discard(w)
            worker = next((w for w in reversed(self._idle) if w.key == key), None)
            if worker is not None:
                self._idle.remove(worker)
        if worker is None:
            return None
        conn = self._hand_out(worker, spec, max_output)
        conn.call_timeout = RESET_TIMEOUT
        try:
            conn.request({"op": "reset", "seed": int(spec.seed)}, "reset")
        except (WorkerCrashed, WorkerTimeout, StudentException, RuntimeError):
            self.reap(worker.pid)  # already done where it crashed or timed out
            return None
        conn.call_timeout = None
        return conn

    def reap(self, pid: int) -> str:
        """Kill worker ``pid`` and everything it started; return how it ended."""
        with self._lock:
            worker = self._live.pop(pid, None)
        if worker is None:
            return "already stopped"
        return self._stop(worker)

    def release(self, pid: int) -> None:
        """The test is over: keep the worker for the next test (reuse), else kill its tree."""
        with self._lock:
            worker = self._live.pop(pid, None)
        if worker is None:
            return
        if self.reuse and worker.process.poll() is None and not self._closed:
            proctree.kill_tree(pid, include_root=False)  # what the test left running
            with self._lock:
                self._idle.append(worker)  # oldest first
                while len(self._idle) > MAX_IDLE:
                    self._discard(self._idle.pop(0))
            return
        with self._lock:
            self._discard(worker)

    def close(self) -> None:
        """Kill every worker (spares, idle, live) and stop."""
        with self._lock:
            self._closed = True
            workers = self._spare + self._idle + list(self._live.values())
            self._spare, self._idle, self._live = [], [], {}
        if self._trial is not None and self._plan is None:
            workers.append(self._trial[0])
            shutil.rmtree(self._trial[1], ignore_errors=True)
        for worker in workers:
            self._stop(worker)
        self._discards.put(None)
        self._reaper.join(timeout=10)

    def __enter__(self) -> SpawnBackend:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ stopping

    def _stop(self, worker: _Process) -> str:
        """Kill ``worker``'s tree, close its channel, wait; how it ended (``describe_exit``)."""
        proctree.kill_tree(worker.pid)
        for sock in (worker.sock, worker.listener):
            if sock is not None:
                try:
                    sock.close()
                except OSError:
                    pass
        code = worker.process.wait()
        if code < 0:
            return describe_exit({"exitcode": None, "signal": -code})
        return describe_exit({"exitcode": code, "signal": None})

    def _discard(self, worker: _Process) -> None:
        """Stop ``worker`` in the background (the caller goes on at once)."""
        self._discards.put(worker)

    def _reap_discarded(self) -> None:
        while (worker := self._discards.get()) is not None:
            try:
                self._stop(worker)
            except OSError:
                pass
