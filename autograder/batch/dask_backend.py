"""Grading on a dask.distributed cluster.

The machine that runs ``dlgrade grade-batch --backend dask`` keeps the
gradebook; each submission is graded by ``runner.grade_task`` on a Dask worker,
and the results JSON comes back to be written here.

Requirements on the cluster (see docs/cluster.md):

- every worker has dlgrade installed (same version), checked on connect;
- the course folder and the submissions are on a filesystem the workers see
  at the same paths;
- workers run one task at a time (``--nthreads 1``): each task runs pytest,
  which keeps process-wide state. Scale with more worker processes instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import autograder
from autograder.batch.runner import grade_task
from autograder.errors import UsageError


def _worker_platform() -> str:
    """Runs on a worker: the dlgrade version installed there, or why it is missing."""
    try:
        import autograder as installed
    except ImportError as exc:
        return f"missing: {exc}"
    return installed.__version__


class DaskBackend:
    """Runs grading tasks on the Dask cluster at ``scheduler`` (e.g. ``tcp://10.0.0.5:8786``)."""

    def __init__(self, scheduler: str, connect_timeout: float = 10.0):
        self.scheduler = scheduler
        self.connect_timeout = connect_timeout

    def _client(self):
        try:
            from distributed import Client
        except ImportError:
            raise UsageError("the Dask backend needs `pip install dlgrade[dask]`") from None
        try:
            return Client(self.scheduler, timeout=self.connect_timeout)
        except (OSError, TimeoutError) as exc:
            raise UsageError(f"cannot reach the Dask scheduler at {self.scheduler}: {exc}") from None

    def check_workers(self, client) -> int:
        """Every worker must have this dlgrade version. Returns the number of workers."""
        try:
            versions = client.run(_worker_platform)
        except Exception as exc:  # a worker without dlgrade cannot even unpickle the function
            raise UsageError(
                f"the Dask workers at {self.scheduler} cannot run dlgrade ({exc}); install "
                f"dlgrade {autograder.__version__} on every worker") from None
        if not versions:
            raise UsageError(f"the Dask cluster at {self.scheduler} has no workers")
        wrong = {w: v for w, v in versions.items() if v != autograder.__version__}
        if wrong:
            listing = ", ".join(f"{w}: {v}" for w, v in sorted(wrong.items()))
            raise UsageError(f"dlgrade {autograder.__version__} is needed on every Dask worker; "
                             f"found {listing}")
        return len(versions)

    def run(self, course_root: str, assignment_id: str, sources: list[str],
            on_result: Callable[[str, str], None]) -> None:
        from distributed import as_completed

        client = self._client()
        try:
            self.check_workers(client)
            futures = {client.submit(grade_task, course_root, assignment_id, source, pure=False,
                                     key=f"dlgrade-{assignment_id}-{i}"): source
                       for i, source in enumerate(sources)}
            for future in as_completed(futures):
                source = futures[future]
                try:
                    text = future.result()
                except Exception as exc:  # the task itself failed on the worker
                    text = json.dumps({"error": f"the Dask task failed: {exc}"})
                on_result(source, text)
        finally:
            client.close()
