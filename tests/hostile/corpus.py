"""The hostile-submission corpus: every case and the exact outcome it must have.

Three kinds of case:

- **grade**: a ``mini.py`` graded against the fixture assignment 90-mini (4
  tests of 1 point: test_add, test_scale, test_add_negative, test_counter).
  ``fails`` lists the tests that must fail and a substring of their reason
  ("A|B" accepts either); every other test must pass, so the score is exact.
- **archive**: a zip that must be refused before anything is extracted.
- **call**: ``attack()`` runs in one worker (no banned APIs, generous limits);
  ``verify`` judges what came back (a value, or the error's one-line reason);
  then ``check()`` runs in the *next* test's worker and must return
  ``after``: tampering never outlives its test.

Every case also names the protections (``autograder/sandbox/protections.py``) it
relies on, as alternatives: ``any_of(A, B)`` holds while A or B is on, ``all_of(A, B)``
needs both. Where the machine grants less (a container, a non-root uid, macOS), a
case may not hold; ``judge`` accepts that only when the run itself reported every
alternative broken (a protection it relies on off), and says which. A case that relies
only on what every backend always provides (``ALWAYS``: a separate process and the value
codec) is never excused: no environment excuses a forged score.

``run_case`` returns what was observed (then grades an honest submission, which must
get full marks); ``judge`` gives the ``Verdict``. ``python -m tests.hostile`` prints the
table.
"""

from __future__ import annotations

import dataclasses
import os
import stat
import time
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograder.config import Assignment, load_course
from autograder.errors import SubmissionError, SubmissionRejected
from autograder.grading import grade_submission
from autograder.sandbox import protections as P
from autograder.sandbox.backend import WorkerBackend
from autograder.sandbox.session import Submission, SubmissionSandbox

REPO = Path(__file__).resolve().parents[2]
FIXTURE_COURSE = REPO / "tests" / "fixtures" / "course"
HIDDEN_TEST = FIXTURE_COURSE / "assignments" / "90-mini" / "tests" / "hidden" / "test_mini_hidden.py"
SOLUTION = FIXTURE_COURSE / "solutions" / "90-mini" / "mini.py"
#: where the write attacks aim (removed again after a case that reached them)
ESCAPE_TARGETS = (REPO / "ESCAPED.txt", Path("/tmp/dlgrade-escaped.txt"))
ALL = ("test_add", "test_scale", "test_add_negative", "test_counter")
ADDS = ("test_add", "test_add_negative")

HONEST_MINI = '''
import numpy as np


def add(a, b):
    return a + b


def scale(x, factor):
    return np.asarray(x) * factor


class Counter:
    def __init__(self, start=0):
        self.count = start

    def step(self, by=1):
        self.count += by
        return self.count
'''

_UNSET = object()


def with_add(body: str) -> str:
    """The honest module with ``add`` replaced by ``body`` (which must define add)."""
    return HONEST_MINI.replace("def add(a, b):\n    return a + b\n", body)


#: Alternatives: a case holds while every protection of one alternative is on.
Needs = tuple[frozenset[str], ...]

#: What every backend provides on every machine (``protections.BASELINE``: a separate process,
#: the value codec); a case relying only on these is never excused, whatever a run reports.
ALWAYS = frozenset(P.BASELINE)


def any_of(*names: str) -> Needs:
    """Any one of ``names`` is enough for the case to hold."""
    return tuple(frozenset({name}) for name in names)


def all_of(*names: str) -> Needs:
    """The case holds only while all of ``names`` are on."""
    return (frozenset(names),)


@dataclass(frozen=True)
class Case:
    id: str
    category: str
    expected: str  # in words, for the table
    files: dict[str, str | bytes] | None = None
    fails: dict[str, str] = field(default_factory=dict)
    archive: Callable[[Path], Path] | None = None
    rejected: str | None = None
    source: str | None = None
    verify: Callable[[Any], bool] | None = None
    after: Any = _UNSET
    needs: Needs = ()  # () for cases no sandbox protection decides (archives: checked before)

    def __post_init__(self):
        unknown = [n for alt in self.needs for n in alt if n not in P.ALL]
        assert not unknown, f"{self.id}: not protections: {unknown}"

    @property
    def kind(self) -> str:
        if self.files is not None:
            return "grade"
        return "archive" if self.archive is not None else "call"


def fail_adds(reason: str) -> dict[str, str]:
    return dict.fromkeys(ADDS, reason)


def fail_all(reason: str) -> dict[str, str]:
    return dict.fromkeys(ALL, reason)


# ----------------------------------------------------------------------------- archives


def _zip(entries: list[tuple[str | zipfile.ZipInfo, bytes]], compression=zipfile.ZIP_STORED):
    def build(folder: Path) -> Path:
        path = folder / "submission.zip"
        with zipfile.ZipFile(path, "w", compression=compression) as archive, \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a duplicate name is the point of one case
            for name, data in entries:
                archive.writestr(name, data)
        return path
    return build


def _symlink_entry() -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("mini.py")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def _non_utf8_zip(folder: Path) -> Path:
    path = folder / "submission.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mini.py", HONEST_MINI)
        archive.writestr("notes.txt", b"x")
    raw = bytearray(path.read_bytes())
    name = b"notes.txt"
    for _ in range(2):  # local header and central directory: caf\xe9.txt, UTF-8 flag unset
        at = raw.find(name)
        raw[at:at + len(name)] = b"caf\xe9s.txt"
    path.write_bytes(bytes(raw))
    return path


def _not_a_zip(folder: Path) -> Path:
    path = folder / "submission.zip"
    path.write_bytes(b"this is not a zip archive\n")
    return path


# ----------------------------------------------------------------------------- the cases

FORGE_REPLY = '''
def _forge(payload):
    import os, socket, stat
    from autograder.sandbox import protocol
    for fd in map(int, os.listdir("/proc/self/fd")):
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                protocol.send_message(socket.socket(fileno=os.dup(fd)), payload)
        except OSError:
            pass
'''

SYSV_IPC = '''
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
KEY = 0x44470021


QUEUE = b"/dlgrade-left-for-later"


def attack():
    created = 0o1666  # IPC_CREAT, readable and writable by every uid
    return [libc.shmget(KEY, 4096, created), libc.msgget(KEY, created),
            libc.semget(KEY, 1, created), libc.mq_open(QUEUE, 0o102, 0o666, None)]  # O_CREAT|O_RDWR


def check():
    return [libc.shmget(KEY, 0, 0) >= 0, libc.msgget(KEY, 0) >= 0, libc.semget(KEY, 0, 0) >= 0,
            libc.mq_open(QUEUE, 0o2, 0, None) >= 0]
'''

ADD_KEY = '''
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def attack():
    number = {"x86_64": 248, "aarch64": 217}[os.uname().machine]
    key = libc.syscall(number, b"user", b"dlgrade-leak", b"hidden inputs", 13, -4)  # @u
    return "refused" if key < 0 else "stored"
'''

OTHER_PROCESSES = '''
import os


def attack():
    me, others = os.getuid(), 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                others += os.stat(f"/proc/{entry}").st_uid != me
            except OSError:
                pass
    return others
'''

MEMORY_IN_CHILDREN = '''def add(a, b):
    import os, time
    children = []
    for _ in range(4):  # 4 x 600 MB: each under the per-process limit, together over it
        pid = os.fork()
        if pid == 0:
            block = b"x" * (600 * 2**20)
            time.sleep(1)
            os._exit(len(block) > 0 and 0)
        children.append(pid)
    if any(os.waitpid(pid, 0)[1] != 0 for pid in children):
        raise MemoryError("a child was stopped")
    return a + b
'''


CASES: list[Case] = [
    # --- resource exhaustion
    Case("cpu-loop-at-import", "resources", "every test fails: import timed out",
         {"mini.py": HONEST_MINI + "\nwhile True:\n    pass\n"},
         fail_all("importing mini.py failed: mini timed out"),
         needs=any_of(P.SEPARATE_PROCESS)),
    Case("cpu-loop-in-function", "resources", "add's tests time out; the others pass",
         {"mini.py": with_add("def add(a, b):\n    while True:\n        pass\n")},
         fail_adds("mini.add(...) timed out"),
         needs=any_of(P.SEPARATE_PROCESS)),
    Case("sleep-ignoring-sigterm", "resources", "add's tests time out (SIGKILL, not SIGTERM)",
         {"mini.py": with_add("def add(a, b):\n    import signal, time\n"
                              "    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                              "    time.sleep(600)\n")},
         fail_adds("timed out"),
         needs=any_of(P.SEPARATE_PROCESS)),
    Case("memory-growth", "resources", "MemoryError at the address-space limit",
         {"mini.py": with_add("def add(a, b):\n    hog = []\n    while True:\n"
                              "        hog.append(bytearray(16 * 2**20))\n")},
         fail_adds("MemoryError"),
         needs=any_of(P.RLIMITS)),
    Case("allocate-10-GB", "resources", "MemoryError at the address-space limit",
         {"mini.py": with_add("def add(a, b):\n    import numpy as np\n"
                              "    x = np.ones(10 * 2**30 // 8)\n    return a + b + x[0] - 1\n")},
         fail_adds("MemoryError"),
         needs=any_of(P.RLIMITS)),
    Case("bounded-fork-bomb", "resources", "fork fails at the process limit",
         {"mini.py": with_add("def add(a, b):\n    import os\n    while True:\n        os.fork()\n")},
         fail_adds("BlockingIOError"),
         needs=all_of(P.RLIMITS, P.UNPRIVILEGED_UID)),
    Case("thread-storm", "resources", "thread creation fails at the process limit",
         {"mini.py": with_add("def add(a, b):\n    import threading, time\n    while True:\n"
                              "        threading.Thread(target=time.sleep, args=(60,), "
                              "daemon=True).start()\n")},
         fail_adds("RuntimeError: can't start new thread"),
         needs=all_of(P.RLIMITS, P.UNPRIVILEGED_UID)),
    Case("disk-fill", "resources", "writes fail: no space (private tmpfs) or file too large",
         {"mini.py": with_add("def add(a, b):\n    i = 0\n    while True:\n"
                              "        with open(f'fill{i}.bin', 'wb') as fh:\n"
                              "            fh.write(b'x' * 2**20)\n        i += 1\n")},
         fail_adds("No space left on device|File too large|Disk quota"),
         needs=any_of(P.PRIVATE_SCRATCH)),
    Case("fd-exhaustion", "resources", "open fails: too many open files",
         {"mini.py": with_add("def add(a, b):\n    keep = []\n    while True:\n"
                              "        keep.append(open('/dev/null'))\n")},
         fail_adds("Too many open files"),
         needs=any_of(P.RLIMITS)),
    Case("print-100-MB-then-answer", "resources", "output truncated; the answer counts",
         {"mini.py": with_add("def add(a, b):\n    import sys\n    line = 'x' * 1023 + '\\n'\n"
                              "    for _ in range(100 * 1024):\n        sys.stdout.write(line)\n"
                              "    return a + b\n")},
         needs=any_of(P.SEPARATE_PROCESS)),
    Case("print-1-GB", "resources", "output truncated; the answer counts (or the call times out)",
         {"mini.py": with_add("def add(a, b):\n    import os\n    chunk = b'y' * 2**20\n"
                              "    for _ in range(1024):\n        os.write(1, chunk)\n"
                              "    return a + b\n")},
         {},
         needs=any_of(P.SEPARATE_PROCESS)),
    Case("deep-recursion", "resources", "RecursionError",
         {"mini.py": with_add("def add(a, b):\n    return add(a, b) + 0\n")},
         fail_adds("RecursionError"),
         needs=any_of(P.SEPARATE_PROCESS)),
    Case("stack-overflow", "resources", "the worker dies (SIGSEGV); grading goes on",
         {"mini.py": with_add("def add(a, b):\n    import sys\n    sys.setrecursionlimit(10**8)\n"
                              "    nested = []\n    for _ in range(10**6):\n"
                              "        nested = [nested]\n"
                              "    return len(repr(nested))  # C recursion past the stack\n")},
         fail_adds("killed by SIGSEGV"),
         needs=any_of(P.SEPARATE_PROCESS)),
    Case("os-exit-at-import", "crash", "every test fails: the process died (exit code 3)",
         {"mini.py": "import os\nos._exit(3)\n" + HONEST_MINI},
         fail_all("the submission's process died (exit code 3)"),
         needs=any_of(P.SEPARATE_PROCESS)),
    Case("sys-exit-at-import", "crash", "every test fails: SystemExit at import",
         {"mini.py": "import sys\nsys.exit(0)\n" + HONEST_MINI},
         fail_all("importing mini.py raised SystemExit: 0"),
         needs=any_of(P.SEPARATE_PROCESS)),
    Case("os-exit-in-function", "crash", "add's tests fail: exit code 7",
         {"mini.py": with_add("def add(a, b):\n    import os\n    os._exit(7)\n")},
         fail_adds("died (exit code 7)"),
         needs=any_of(P.SEPARATE_PROCESS)),
    Case("segfault-in-function", "crash", "add's tests fail: SIGSEGV",
         {"mini.py": with_add("def add(a, b):\n    import ctypes\n    return ctypes.string_at(0)\n")},
         fail_adds("killed by SIGSEGV"),
         needs=any_of(P.SEPARATE_PROCESS)),
    # --- escapes
    Case("read-hidden-test", "escape", "denied or invisible",
         {"mini.py": with_add(f"def add(a, b):\n    return len(open({str(HIDDEN_TEST)!r}).read())\n")},
         fail_adds("PermissionError|FileNotFoundError"),
         needs=any_of(P.LANDLOCK_FS, P.MOUNT_NAMESPACE, P.COURSE_FILES_UNREADABLE)),
    Case("read-solution", "escape", "denied or invisible",
         {"mini.py": with_add(f"def add(a, b):\n    return len(open({str(SOLUTION)!r}).read())\n")},
         fail_adds("PermissionError|FileNotFoundError"),
         needs=any_of(P.LANDLOCK_FS, P.MOUNT_NAMESPACE, P.COURSE_FILES_UNREADABLE)),
    Case("read-grader-cwd-via-proc", "escape", "denied",
         {"mini.py": with_add("def add(a, b):\n    import os\n"
                              "    return len(os.listdir(f'/proc/{os.getppid()}/cwd'))\n")},
         fail_adds("PermissionError|FileNotFoundError"),
         needs=any_of(P.UNPRIVILEGED_UID, P.LANDLOCK_FS)),
    Case("read-grader-memory-via-proc", "escape", "denied",
         {"mini.py": with_add("def add(a, b):\n    import os\n"
                              "    return len(open(f'/proc/{os.getppid()}/mem', 'rb').read(8))\n")},
         fail_adds("PermissionError|FileNotFoundError|OSError"),
         needs=any_of(P.UNPRIVILEGED_UID, P.LANDLOCK_FS)),
    Case("secrets-in-environment", "escape", "nothing but a scrubbed environment: all pass",
         {"mini.py": with_add(
             "def add(a, b):\n    import os\n"
             "    allowed = {'PATH', 'HOME', 'TMPDIR', 'TEMP', 'TMP', 'LANG', 'OMP_NUM_THREADS', "
             "'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS'}\n"
             "    try:  # the original environment of the process, if readable at all\n"
             "        env = open('/proc/self/environ', 'rb').read().split(b'\\0')\n"
             "    except PermissionError:\n        env = []\n"
             "    names = {e.split(b'=')[0].decode() for e in env if e}\n"
             "    if set(os.environ) - allowed or names - allowed - {'PYTHONHASHSEED', "
             "'PYTHONPATH'}:\n"
             "        raise RuntimeError('ESCAPED: ' + str(sorted(set(os.environ) | names)))\n"
             "    return a + b\n")},
         needs=any_of(P.SEPARATE_PROCESS)),
    Case("write-outside-scratch", "escape", "denied",
         {"mini.py": with_add(f"def add(a, b):\n    open({str(REPO / 'ESCAPED.txt')!r}, 'w')"
                              ".write('x')\n    return a + b\n")},
         fail_adds("PermissionError|Read-only|OSError"),
         needs=any_of(P.LANDLOCK_FS, P.UNPRIVILEGED_UID)),
    Case("write-to-tmp", "escape", "denied (the worker's TMPDIR is inside its scratch)",
         {"mini.py": with_add("def add(a, b):\n    open('/tmp/dlgrade-escaped.txt', 'w')"
                              ".write('x')\n    return a + b\n")},
         fail_adds("PermissionError|OSError"),
         needs=any_of(P.LANDLOCK_FS)),
    Case("signal-the-parent", "escape", "denied",
         {"mini.py": with_add("def add(a, b):\n    import os, signal\n"
                              "    os.kill(os.getppid(), signal.SIGKILL)\n    return a + b\n")},
         fail_adds("PermissionError"),
         needs=any_of(P.UNPRIVILEGED_UID, P.LANDLOCK_SCOPE)),
    Case("tcp-loopback", "escape", "no network, loopback included",
         {"mini.py": with_add("def add(a, b):\n    import _socket\n"
                              "    s = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)\n"
                              "    s.settimeout(1)\n    s.connect(('127.0.0.1', 22))\n"
                              "    return a + b\n")},
         fail_adds("PermissionError|OSError|ConnectionRefused"),
         needs=any_of(P.NETWORK_NAMESPACE, P.LANDLOCK_NET)),
    Case("udp-send", "escape", "no network",
         {"mini.py": with_add("def add(a, b):\n    import _socket\n"
                              "    s = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)\n"
                              "    s.sendto(b'x', ('8.8.8.8', 53))\n    return a + b\n")},
         fail_adds("PermissionError|OSError"),
         needs=any_of(P.NETWORK_NAMESPACE)),
    # A forged reply can only claim a value the code could have returned anyway; what must
    # never happen is a reply landing on the wrong request. Forge a wrong value, return the
    # right one: either the forgery is judged (wrong) or the channel is declared broken.
    Case("forge-a-reply", "escape", "the forged value is judged, or the channel is refused",
         {"mini.py": with_add(FORGE_REPLY + "\ndef add(a, b):\n    _forge({'ok': 999})\n"
                              "    return a + b\n")},
         {"test_add": "999|reply|channel|more than one message",
          "test_add_negative": "a check on your output failed|reply|channel|more than one"},
         needs=any_of(P.VALUE_CODEC)),
    Case("monkeypatch-numpy-and-pytest", "escape",
         "patching the worker's numpy/pytest cannot change the trusted comparison",
         {"mini.py": "import numpy as np\nnp.allclose = lambda *a, **k: True\n"
                     "np.testing.assert_allclose = lambda *a, **k: None\n"
                     "import pytest\npytest.approx = lambda *a, **k: True\n"
                     + HONEST_MINI.replace("return np.asarray(x) * factor",
                                           "return np.zeros_like(x)")},
         {"test_scale": "value(s) differ"},
         needs=any_of(P.SEPARATE_PROCESS)),
    # --- bad input
    Case("syntax-error", "bad input", "every test fails with the compiler's message",
         {"mini.py": HONEST_MINI + "\ndef broken(:\n    pass\n"},
         fail_all("SyntaxError in mini.py"),
         needs=any_of(P.SEPARATE_PROCESS)),
    Case("non-utf8-source", "bad input", "every test fails: not valid UTF-8",
         {"mini.py": b"def add(a, b):\n    return a + b  # caf\xe9\n"},
         fail_all("mini.py is not valid UTF-8"),
         needs=any_of(P.SEPARATE_PROCESS)),
    Case("missing-function", "bad input", "add's tests fail: not defined",
         {"mini.py": HONEST_MINI.replace("def add(a, b):\n    return a + b\n", "")},
         fail_adds("add is not defined in mini.py"),
         needs=any_of(P.SEPARATE_PROCESS)),
    Case("missing-module", "bad input", "every test fails: mini.py not found",
         {"other.py": HONEST_MINI}, fail_all("mini.py not found in the submission"),
         needs=any_of(P.SEPARATE_PROCESS)),
    Case("banned-module", "bad input", "add's tests fail: torch is banned",
         {"mini.py": with_add("def add(a, b):\n    import torch\n"
                              "    return int(torch.tensor(a) + b)\n")},
         fail_adds("torch is banned in this assignment"),
         needs=any_of(P.SEPARATE_PROCESS)),
    Case("banned-function", "bad input", "add's tests fail: numpy.linalg.solve is banned",
         {"mini.py": with_add("def add(a, b):\n    import numpy as np\n"
                              "    return float(np.linalg.solve([[1.0]], [a + b])[0])\n")},
         fail_adds("numpy.linalg.solve is banned in this assignment"),
         needs=any_of(P.SEPARATE_PROCESS)),
    Case("wrong-return-type", "bad input", "scale fails: got None",
         {"mini.py": HONEST_MINI.replace("return np.asarray(x) * factor", "return None")},
         {"test_scale": "got None"},
         needs=any_of(P.VALUE_CODEC)),
    Case("nan-output", "bad input", "scale fails: NaN where finite values were expected",
         {"mini.py": HONEST_MINI.replace("return np.asarray(x) * factor",
                                         "return np.asarray(x) * np.nan")},
         {"test_scale": "non-finite value(s) (NaN"},
         needs=any_of(P.VALUE_CODEC)),
    Case("wrong-shape", "bad input", "scale fails: shape mismatch",
         {"mini.py": HONEST_MINI.replace("return np.asarray(x) * factor",
                                         "return (np.asarray(x) * factor).T")},
         {"test_scale": "expected shape (3, 4) but got shape (4, 3)"},
         needs=any_of(P.VALUE_CODEC)),
    Case("unsendable-return", "bad input", "a function comes back as a handle: not equal",
         {"mini.py": with_add("def add(a, b):\n    return lambda: a + b\n")},
         {"test_add": "assert <handle mini.add(...)> == 5",
          "test_add_negative": "a check on your output failed"},
         needs=any_of(P.VALUE_CODEC)),
    # --- codec attacks (call cases: what comes back, if anything)
    Case("object-dtype-array", "codec", "refused: dtype object cannot be sent",
         source="import numpy as np\ndef attack():\n    return np.array([object()], dtype=object)\n",
         verify=lambda out: isinstance(out, str) and "dtype object cannot be sent" in out,
         needs=any_of(P.VALUE_CODEC)),
    Case("structured-dtype-array", "codec", "refused: structured dtype cannot be sent",
         source="import numpy as np\ndef attack():\n"
                "    return np.zeros(2, dtype=[('a', '<i4'), ('b', '<f8')])\n",
         verify=lambda out: isinstance(out, str) and "cannot be sent" in out,
         needs=any_of(P.VALUE_CODEC)),
    Case("1e5-deep-nesting", "codec", "refused: nested too deeply",
         source="def attack():\n    v = []\n    for _ in range(10**5):\n        v = [v]\n    return v\n",
         verify=lambda out: isinstance(out, str) and "nested too deeply" in out,
         needs=any_of(P.VALUE_CODEC)),
    Case("ndarray-subclass", "codec", "arrives as a plain ndarray with the same values",
         source="import numpy as np\nclass Sneaky(np.ndarray):\n"
                "    def __eq__(self, other):\n        return True\n"
                "def attack():\n    return np.arange(4.0).view(Sneaky)\n",
         verify=lambda out: type(out) is np.ndarray and out.tolist() == [0.0, 1.0, 2.0, 3.0],
         needs=any_of(P.VALUE_CODEC)),
    Case("non-contiguous-view", "codec", "arrives as a contiguous copy with the same values",
         source="import numpy as np\ndef attack():\n    return np.arange(12.0).reshape(3, 4)[:, ::2].T\n",
         verify=lambda out: isinstance(out, np.ndarray) and out.shape == (2, 3)
         and out.tolist() == [[0.0, 4.0, 8.0], [2.0, 6.0, 10.0]],
         needs=any_of(P.VALUE_CODEC)),
    Case("zero-d-array", "codec", "arrives as a 0-d ndarray",
         source="import numpy as np\ndef attack():\n    return np.array(5.0)\n",
         verify=lambda out: isinstance(out, np.ndarray) and out.shape == () and out == 5.0,
         needs=any_of(P.VALUE_CODEC)),
    Case("nan-and-inf", "codec", "arrive as NaN and Inf",
         source="def attack():\n    return [float('nan'), float('inf'), -float('inf')]\n",
         verify=lambda out: out[0] != out[0] and out[1:] == [float("inf"), -float("inf")],
         needs=any_of(P.VALUE_CODEC)),
    Case("tensor-requiring-grad", "codec", "arrives detached (requires_grad False)",
         source="import torch\ndef attack():\n"
                "    return torch.ones(3, requires_grad=True) * 2\n",
         verify=lambda out: type(out).__name__ == "Tensor" and not out.requires_grad
         and out.tolist() == [2.0, 2.0, 2.0],
         needs=any_of(P.VALUE_CODEC)),
    Case("sparse-tensor", "codec", "arrives as a dense tensor",
         source="import torch\ndef attack():\n"
                "    return torch.eye(3).to_sparse()\n",
         verify=lambda out: type(out).__name__ == "Tensor" and not out.is_sparse
         and out.tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
         needs=any_of(P.VALUE_CODEC)),
    Case("forged-huge-length", "codec", "the worker's reply is rejected; the worker is stopped",
         source="import os, socket, stat, struct\ndef attack():\n"
                "    for fd in map(int, os.listdir('/proc/self/fd')):\n"
                "        try:\n"
                "            if stat.S_ISSOCK(os.fstat(fd).st_mode):\n"
                "                os.write(fd, struct.pack('<Q', 2**62) + b'a')\n"
                "        except OSError:\n            pass\n"
                "    import time\n    time.sleep(30)\n",
         verify=lambda out: isinstance(out, str) and ("over the limit" in out
                                                     or "rejected" in out),
         needs=any_of(P.VALUE_CODEC)),
    # --- channels between submissions, and interference with other jobs (issue 21)
    Case("sysv-ipc-left-for-later", "channel",
         "the next worker finds no SysV object or POSIX message queue",
         source=SYSV_IPC, verify=lambda out: isinstance(out, list), after=[False] * 4,
         needs=any_of(P.IPC_NAMESPACE, P.SYSCALL_FILTER, P.UNPRIVILEGED_UID)),
    Case("keyring-left-for-later", "channel", "refused: no kernel keyring",
         source=ADD_KEY, verify=lambda out: out == "refused",
         needs=any_of(P.SYSCALL_FILTER)),
    Case("see-other-processes", "channel", "no other uid's process is visible in /proc",
         source=OTHER_PROCESSES, verify=lambda out: out == 0,
         needs=any_of(P.PROCESSES_HIDDEN)),
    Case("make-a-user-namespace", "escape", "refused",
         source=("import ctypes\ndef attack():\n"
                 "    libc = ctypes.CDLL(None, use_errno=True)\n"
                 "    return 'refused' if libc.unshare(0x10000000) != 0 else 'created'\n"),
         verify=lambda out: out == "refused",
         needs=any_of(P.SYSCALL_FILTER)),
    Case("move-to-another-cpu", "resources", "refused: a worker keeps its CPUs",
         source=("import os\ndef attack():\n    try:\n"
                 "        os.sched_setaffinity(0, os.sched_getaffinity(0))\n"
                 "    except OSError:\n        return 'refused'\n    return 'moved'\n"),
         verify=lambda out: out == "refused",
         needs=any_of(P.SYSCALL_FILTER)),
    Case("new-session-per-child", "resources", "refused: no scheduler autogroup of its own",
         source=("import os\ndef attack():\n    try:\n        os.setsid()\n"
                 "    except OSError:\n        return 'refused'\n    return 'new session'\n"),
         verify=lambda out: out == "refused",
         needs=any_of(P.SYSCALL_FILTER)),
    Case("memory-in-children", "resources",
         "the worker and its children share one memory limit (or cannot fork)",
         {"mini.py": with_add(MEMORY_IN_CHILDREN)},
         fail_adds("over the memory limit|BlockingIOError|MemoryError"),
         needs=any_of(P.WORKER_CGROUP, P.SINGLE_PROCESS)),
    # --- state tampering (the next test's fresh worker must not see it)
    Case("set-default-dtype", "state", "the next test has float32 as the default dtype",
         source="import torch\ndef attack():\n    torch.set_default_dtype(torch.float64)\n"
                "def check():\n    return str(torch.get_default_dtype())\n",
         verify=lambda out: out is None, after="torch.float32",
         needs=any_of(P.FRESH_WORKER_PER_TEST)),
    Case("set-num-threads", "state", "the next test runs torch on one thread",
         source="import torch\ndef attack():\n    torch.set_num_threads(2)\n"
                "def check():\n    return torch.get_num_threads()\n",
         verify=lambda out: out is None, after=1,
         needs=any_of(P.FRESH_WORKER_PER_TEST)),
    Case("reseed-global-rng", "state", "the next test's RNG is seeded for that test",
         source="import numpy as np\ndef attack():\n    np.random.seed(12345)\n"
                "def check():\n    return float(np.random.rand())\n",
         verify=lambda out: out is None, after=float(np.random.RandomState(1).rand()),
         needs=any_of(P.FRESH_WORKER_PER_TEST)),
    Case("monkeypatch-numpy-for-later", "state", "the next test has the real numpy.sum",
         source="import numpy as np\ndef attack():\n    np.sum = lambda *a, **k: 42\n"
                "def check():\n    return int(np.sum([1, 2]))\n",
         verify=lambda out: out is None, after=3,
         needs=any_of(P.FRESH_WORKER_PER_TEST)),
    Case("rewrite-own-module", "state", "the next test imports the submitted file, not the rewrite",
         source="VALUE = 'original'\ndef attack():\n"
                "    open('mini.py', 'w').write(\"VALUE = 'rewritten'\\ndef check():\\n"
                "    return VALUE\\n\")\n"
                "def check():\n    return VALUE\n",
         verify=lambda out: out is None, after="original",
         needs=any_of(P.PRIVATE_SCRATCH, P.UNPRIVILEGED_UID)),
    # --- archive attacks
    Case("zip-bomb", "archive", "refused: too large uncompressed",
         archive=_zip([("mini.py", b"0" * (60 * 2**20))], zipfile.ZIP_DEFLATED),
         rejected="uncompressed"),
    Case("zip-dot-dot-path", "archive", "refused: escapes the archive",
         archive=_zip([("mini.py", HONEST_MINI.encode()), ("../evil.py", b"x")]),
         rejected="escapes the archive"),
    Case("zip-absolute-path", "archive", "refused: absolute path",
         archive=_zip([("mini.py", HONEST_MINI.encode()), ("/etc/evil.py", b"x")]),
         rejected="absolute path"),
    Case("zip-symlink", "archive", "refused: symlink",
         archive=_zip([(_symlink_entry(), b"/etc/passwd")]), rejected="symlink"),
    Case("zip-duplicate-names", "archive", "refused: a name appears twice",
         archive=_zip([("mini.py", HONEST_MINI.encode()), ("mini.py", b"evil = 1\n")]),
         rejected="appears twice"),
    Case("zip-non-utf8-name", "archive", "refused: a file name is not UTF-8",
         archive=_non_utf8_zip, rejected="not UTF-8"),
    Case("zip-empty", "archive", "refused: the archive is empty",
         archive=_zip([]), rejected="the archive is empty"),
    Case("zip-not-a-zip", "archive", "refused: not a valid zip file",
         archive=_not_a_zip, rejected="not a valid zip file"),
]


# ----------------------------------------------------------------------------- running


@dataclass
class Observed:
    summary: str  # one line for the table
    outcome: Any  # grade: {test: (status, reason)}; archive: message; call: (attack, check)
    seconds: float
    protections: list[str] = field(default_factory=list)  # reported in force for the run
    next_problem: str | None = None  # what went wrong grading an honest submission next


def _call(sub: Submission, name: str) -> Any:
    try:
        return getattr(sub.mini, name)()
    except SubmissionError as exc:
        return exc.reason


def _write(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    return folder


def _remove_escaped_files() -> None:
    for target in ESCAPE_TARGETS:
        try:
            target.unlink()
        except OSError:
            pass


def run_case(case: Case, backend: WorkerBackend, workdir: Path,
             honest_next: bool = True) -> Observed:
    """Run one case in ``workdir`` (a fresh folder) and describe what happened; then, with
    ``honest_next``, grade an honest submission on the same backend (it must get 4/4)."""
    t0 = time.perf_counter()
    try:
        observed = _run(case, backend, workdir)
    finally:
        _remove_escaped_files()
    observed.seconds = time.perf_counter() - t0
    if honest_next:
        after = grade_submission(fixture_assignment(), _write(workdir / "next", {"mini.py": HONEST_MINI}),
                                 parent=backend)
        if after.score != after.max_score:
            reasons = "; ".join(f"{t.name.split('::')[-1]}: {t.reason}"
                                for t in after.tests if not t.passed)
            observed.next_problem = (f"the next, honest submission scored "
                                     f"{after.score:g}/{after.max_score:g}: {reasons}")
    return observed


def fixture_assignment() -> Assignment:
    """90-mini of the fixture course: what every case is graded against."""
    return load_course(FIXTURE_COURSE).assignment("90-mini")


def _run(case: Case, backend: WorkerBackend, workdir: Path) -> Observed:
    assignment = fixture_assignment()
    if case.kind == "grade":
        result = grade_submission(assignment, _write(workdir / "submission", case.files),
                                  parent=backend)
        outcome = {t.name.split("::")[-1]: (t.status, t.reason) for t in result.tests}
        failed = [f"{n}: {r}" for n, (s, r) in outcome.items() if s != "passed"]
        summary = f"{result.score:g}/{result.max_score:g}" + (
            f"; {failed[0][:70]}" if failed else "")
        return Observed(summary, outcome, 0.0, list(result.protections))
    if case.kind == "archive":
        path = case.archive(workdir)
        try:
            result = grade_submission(assignment, path, parent=backend)
        except SubmissionRejected as exc:
            return Observed(f"rejected: {str(exc)[:70]}", str(exc), 0.0)
        return Observed(f"graded {result.score:g}/{result.max_score:g}", None, 0.0,
                        list(result.protections))
    folder = _write(workdir / "submission", {"mini.py": case.source})
    os.chmod(workdir, 0o755)
    relaxed = dataclasses.replace(
        assignment, banned=(),
        limits=dataclasses.replace(assignment.limits, call_timeout=10.0, test_timeout=20.0))
    sandbox = SubmissionSandbox(relaxed, folder, "process", backend)
    first = Submission(sandbox, seed=1, test_timeout=20)
    try:
        attack = _call(first, "attack")
    finally:
        first.close()
    check = _UNSET
    if case.after is not _UNSET:
        second = Submission(sandbox, seed=1, test_timeout=20)
        try:
            check = _call(second, "check")
        finally:
            second.close()
    shown = attack if isinstance(attack, str) else type(attack).__name__
    summary = f"attack -> {str(shown)[:60]}" + ("" if check is _UNSET else f"; next test -> {check!r}")
    return Observed(summary, (attack, check), 0.0, list(sandbox.protections()))


# ----------------------------------------------------------------------------- judging


@dataclass
class Verdict:
    """How a case's run compares with what the case expects.

    ``held``: exactly the expected outcome. ``excused``: not, but the run reported every
    alternative the case relies on broken (``off`` names the protections reported off), so
    the result says why. Anything else is a failure."""

    problems: list[str]
    off: list[str]
    excused: bool

    @property
    def held(self) -> bool:
        return not self.problems

    @property
    def ok(self) -> bool:
        return self.held or self.excused

    def label(self) -> str:
        """The table's "held" cell."""
        if self.held:
            return "yes"
        if self.excused:
            return f"no — {', '.join(self.off)} off (reported)"
        return "MISMATCH"


def protections_off(case: Case, protections: list[str]) -> tuple[list[str], bool]:
    """The protections ``case`` relies on that ``protections`` lacks, and whether every
    alternative of the case is broken by one of them (what ``ALWAYS`` holds never counts
    as off: no run may excuse a failure of those)."""
    active = set(protections)
    off: set[str] = set()
    broken = bool(case.needs)
    for alternative in case.needs:
        missing = alternative - active - ALWAYS
        off |= missing
        broken = broken and bool(missing)
    return P.ordered(off), broken


def judge(case: Case, observed: Observed) -> Verdict:
    """Compare ``observed`` with what ``case`` expects (see ``Verdict``)."""
    problems = _differences(case, observed)
    if observed.next_problem:
        problems.append(observed.next_problem)
    off, broken = protections_off(case, observed.protections)
    return Verdict(problems, off, bool(problems) and broken)


def _differences(case: Case, observed: Observed) -> list[str]:
    """What differs from the case's expected outcome (empty when all is as expected)."""
    problems = []
    if case.kind == "grade":
        outcome = observed.outcome
        if set(outcome) != set(ALL):
            return [f"tests graded: {sorted(outcome)}"]
        for name, (status, reason) in outcome.items():
            want = case.fails.get(name)
            if want is None and status != "passed":
                problems.append(f"{name} should pass: {reason}")
            if want is not None and (status != "failed"
                                     or not any(alt in reason for alt in want.split("|"))):
                problems.append(f"{name}: expected a failure with {want!r}, got {status}: {reason}")
    elif case.kind == "archive":
        if not isinstance(observed.outcome, str) or case.rejected not in observed.outcome:
            problems.append(f"expected a rejection with {case.rejected!r}, got {observed.summary}")
    else:
        attack, check = observed.outcome
        try:
            ok = case.verify(attack)
        except Exception as exc:  # a verify that cannot even look at it: wrong outcome
            ok = False
            attack = f"{attack!r} ({exc})"
        if not ok:
            problems.append(f"attack outcome not as expected: {attack!r}")
        if case.after is not _UNSET and check != case.after:
            problems.append(f"the next test saw {check!r}, expected {case.after!r}")
    return problems
