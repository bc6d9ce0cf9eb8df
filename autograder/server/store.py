"""The upload store: each accepted upload's bytes, named by their sha256 (so a resubmission
of the same bytes is stored once), written atomically, never modified."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from autograder.errors import UsageError

MIN_FREE_BYTES = 64 * 2**20  # below this, uploads are refused rather than half-written


class StoreFull(UsageError):
    """The disk holding the upload store is (nearly) full: the upload is refused, cleanly."""

    status = 507  # Insufficient Storage


class UploadStore:
    """``root/ab/abcdef....zip``: an upload's bytes by their sha256."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.zip"

    def put(self, data: bytes) -> str:
        """Store ``data``; return its sha256. Nothing is left behind on failure.

        Raises:
            StoreFull: less than ``MIN_FREE_BYTES`` (plus the upload) is free, or the write
                failed for lack of space.
        """
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha)
        if target.is_file():
            return sha
        target.parent.mkdir(parents=True, exist_ok=True)
        if shutil.disk_usage(target.parent).free < MIN_FREE_BYTES + len(data):
            raise StoreFull("the server's disk is full: uploads are refused until staff free "
                            "space; your submission was not stored")
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise StoreFull(f"the upload could not be stored ({exc.strerror or exc}); it was "
                            "not accepted") from None
        return sha

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()
