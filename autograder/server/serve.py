"""Running the server: the web application under uvicorn and N grading workers beside it.

Workers are separate processes (``autograder.server.worker``) that die with the server;
one that exits is started again. More workers on other machines (PostgreSQL) run the
same module with the same ``--database`` and ``--store``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from autograder.batch.runner import cpu_plan
from autograder.config import Course
from autograder.server import queue
from autograder.server.settings import ServerSettings


def worker_command(course: Course, settings: ServerSettings, name: str,
                   cpu: int | None = None) -> list[str]:
    return [sys.executable, "-m", "autograder.server.worker", "--course", str(course.root),
            "--database", settings.database_url, "--store", str(settings.store), "--name", name,
            "--parent", str(os.getpid()), *(["--cpu", str(cpu)] if cpu is not None else [])]


class WorkerPool:
    """``jobs`` worker processes, restarted when one exits, stopped with the pool. The job
    of a worker that died (killed, out of memory) goes back to the queue at once rather
    than when its lease runs out, which is the whole run budget away."""

    def __init__(self, course: Course, settings: ServerSettings, jobs: int, engine: Engine,
                 pin_cpus: bool | None = None):
        self.engine = engine
        self.names = [f"{os.uname().nodename}-{i}" for i in range(jobs)]
        cpus = cpu_plan(jobs, pin_cpus) or [None] * jobs  # as grade-batch pins its jobs
        self.commands = [worker_command(course, settings, name, cpu)
                         for name, cpu in zip(self.names, cpus, strict=True)]
        self.procs: list[subprocess.Popen | None] = [None] * jobs
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._supervise, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _supervise(self) -> None:
        while not self.stopping.is_set():
            for i, proc in enumerate(self.procs):
                if proc is None or proc.poll() is not None:
                    if proc is not None:
                        self._requeue(self.names[i])
                    self.procs[i] = subprocess.Popen(self.commands[i])
            self.stopping.wait(1.0)

    def _requeue(self, name: str) -> None:
        try:
            with self.engine.begin() as conn:
                queue.requeue_worker(conn, name)
        except SQLAlchemyError:  # the database is away: the lease puts the job back later
            pass

    def stop(self) -> None:
        self.stopping.set()
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            if proc is not None:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()


def serve(course: Course, settings: ServerSettings, host: str, port: int, jobs: int,
          pin_cpus: bool | None = None) -> None:
    """Serve until interrupted."""
    import uvicorn

    from autograder.server.app import create_app
    from autograder.server.db import create_schema, make_engine

    engine = make_engine(settings.database_url)
    create_schema(engine)
    Path(settings.store).mkdir(parents=True, exist_ok=True)
    pool = WorkerPool(course, settings, jobs, engine, pin_cpus)
    pool.start()
    try:
        uvicorn.run(create_app(course, settings, engine), host=host, port=port,
                    log_level="info", proxy_headers=True)
    finally:
        pool.stop()
        time.sleep(0)
