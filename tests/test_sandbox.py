"""The sandboxed worker: handles, timeouts, crash recovery, limits, network, environment."""

from __future__ import annotations

import dataclasses
import os
import socket
import time

import numpy as np
import pytest
import torch

from autograder.errors import ModuleUnavailable, StudentException, WorkerCrashed, WorkerTimeout
from autograder.sandbox.session import Submission, SubmissionSandbox

# A guard against hanging, not a performance figure: far above any deadline a test sets.
HANG = 30.0

MODULE = '''
import os
import numpy as np
import torch
from torch import nn

STATE = {"calls": 0}


def identity(x):
    return x


def bump():
    STATE["calls"] += 1
    return STATE["calls"]


def spin():
    while True:
        pass


def sleep_ignoring_sigterm(seconds):
    import signal, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(seconds)


def burn_cpu(seconds):
    import time
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return "done"


def write_file(name, megabytes):
    with open(name, "wb") as fh:
        fh.write(b"x" * (megabytes * 2**20))
    return os.path.getsize(name)


def open_files(n):
    handles = [open(f"f{i}.txt", "w") for i in range(n)]
    return len(handles)


def connect(port):
    import socket
    s = socket.create_connection(("127.0.0.1", port), timeout=1)
    return "connected"


def raw_connect(port):
    import _socket
    s = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    s.settimeout(1)
    s.connect(("127.0.0.1", port))
    return "connected"


def environment():
    return dict(os.environ)


def whoami():
    return {"uid": os.getuid(), "cwd": os.getcwd(), "files": sorted(os.listdir("."))}


def network_namespace():
    return os.readlink("/proc/self/ns/net")


def fail_deep():
    def inner():
        raise ValueError("bad value in inner")
    inner()


def sum_array(x):
    return float(x.sum()), x.shape, x.dtype.name


def scale_in_place(x, factor):
    x *= factor
    return x


def scale_copy(x, factor):
    return x * factor


class Box:
    def __init__(self, items):
        self.items = list(items)

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]

    def total(self):
        return sum(self.items)


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.fc2 = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


def train_steps(model, x, y, steps):
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    return losses
'''


@pytest.fixture
def make_submission(mini_course, warm_parent, tmp_path):
    """A ``Submission`` over a one-module submission ``mini.py`` with ``MODULE``'s source."""
    opened = []

    def make(source: str = MODULE, isolation: str = "process", **limit_overrides):
        # Generous limits unless a test is about them: the machine may be busy.
        limit_overrides = {"call_timeout": 20.0, "test_timeout": 60.0, **limit_overrides}
        folder = tmp_path / f"s{len(opened)}"
        folder.mkdir()
        os.chmod(tmp_path, 0o755)
        (folder / "mini.py").write_text(source)
        assignment = mini_course.assignment("90-mini")
        assignment = dataclasses.replace(
            assignment, limits=dataclasses.replace(assignment.limits, **limit_overrides),
            banned=())
        sandbox = SubmissionSandbox(assignment, folder, isolation,
                                    warm_parent if isolation == "process" else None)
        sandbox.probe_modules()
        sub = Submission(sandbox, seed=1, test_timeout=assignment.limits.test_timeout)
        opened.append(sub)
        return sub

    yield make
    for sub in opened:
        sub.close()


def test_values_cross_by_value(make_submission):
    mini = make_submission().mini
    x = np.arange(6.0).reshape(2, 3)
    out = mini.identity(x)
    assert isinstance(out, np.ndarray) and out is not x
    np.testing.assert_array_equal(out, x)
    assert mini.sum_array(x) == (15.0, (2, 3), "float64")
    assert mini.identity({"a": [1, (2, None)], "b": b"raw"}) == {"a": [1, (2, None)], "b": b"raw"}


def test_handles_support_methods_attributes_items_len_iteration(make_submission):
    mini = make_submission().mini
    box = mini.Box([1, 2, 3])
    assert box.total() == 6
    assert box.items == [1, 2, 3]
    assert len(box) == 3 and box[1] == 2 and list(box) == [1, 2, 3]
    box.items = [10, 20]
    assert box.total() == 30
    assert box.remote_type() == "mini.Box"
    assert mini.identity(box).total() == 30  # a handle passed back in is the same object


def test_nn_module_state_dict_forward_and_training_loop(make_submission):
    mini = make_submission().mini
    model = mini.TwoLayer()
    reference = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    state = {k.replace("0.", "fc1.").replace("2.", "fc2."): v for k, v in reference.state_dict().items()}
    model.load_state_dict(state)
    x = torch.randn(5, 3)
    torch.testing.assert_close(model.forward(x), reference(x).detach())
    torch.testing.assert_close(model(x), reference(x).detach())
    losses = mini.train_steps(model, x, torch.zeros(5, 2), 5)
    assert len(losses) == 5 and losses[-1] < losses[0]


def test_autograd_probe_returns_input_and_parameter_gradients(make_submission):
    sub = make_submission()
    model = sub.mini.TwoLayer()
    reference = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    model.load_state_dict({k.replace("0.", "fc1.").replace("2.", "fc2."): v
                           for k, v in reference.state_dict().items()})
    x = torch.randn(5, 3, dtype=torch.float32)
    upstream = torch.randn(5, 2)
    probe = sub.autograd_probe(model, [x], upstream, params=["fc1.weight", "fc2.bias"])
    xr = x.clone().requires_grad_(True)
    out = reference(xr)
    out.backward(upstream)
    torch.testing.assert_close(probe["output"], out.detach())
    torch.testing.assert_close(probe["input_grads"][0], xr.grad)
    torch.testing.assert_close(probe["param_grads"]["fc1.weight"], reference[0].weight.grad)
    torch.testing.assert_close(probe["param_grads"]["fc2.bias"], reference[2].bias.grad)


def test_student_exception_carries_trimmed_traceback(make_submission):
    mini = make_submission().mini
    with pytest.raises(StudentException) as info:
        mini.fail_deep()
    assert info.value.reason == "ValueError: bad value in inner"
    assert 'File "mini.py"' in info.value.details and "in inner" in info.value.details
    assert "autograder" not in info.value.details  # platform frames are trimmed


def test_cpu_seconds_count_the_workers_work_not_its_waiting(make_submission):
    sub = make_submission()
    start = sub.cpu_seconds()
    sub.mini.sleep_ignoring_sigterm(1.0)
    slept = sub.cpu_seconds()
    assert sub.mini.burn_cpu(0.5) == "done"
    burned = sub.cpu_seconds()
    assert slept - start < 0.3  # a second asleep costs no CPU, however busy the machine
    assert burned - slept >= 0.45  # the kernel's count, in 10 ms ticks


def test_cpu_seconds_in_process_are_this_process_s(make_submission):
    sub = make_submission(isolation="none")
    start = sub.cpu_seconds()
    sub.mini.burn_cpu(0.2)
    assert sub.cpu_seconds() - start >= 0.2


def test_call_timeout_kills_worker_and_reports(make_submission):
    sub = make_submission(call_timeout=2.0)
    t0 = time.monotonic()
    with pytest.raises(WorkerTimeout, match=r"mini.spin\(...\) timed out after 2.0 s"):
        sub.mini.spin()
    assert time.monotonic() - t0 < HANG  # spin() never returns: only the deadline ends it
    with pytest.raises(WorkerCrashed, match="timed out"):  # the worker is gone for this test
        sub.mini.identity(1)


def test_sleeping_past_the_deadline_while_ignoring_sigterm(make_submission):
    sub = make_submission(call_timeout=2.0)
    t0 = time.monotonic()
    with pytest.raises(WorkerTimeout, match="timed out after 2.0 s"):
        sub.mini.sleep_ignoring_sigterm(10 * HANG)
    assert time.monotonic() - t0 < HANG  # SIGTERM ignored: only the SIGKILL after it ends it


def test_test_timeout_bounds_the_sum_of_calls(make_submission):
    sub = make_submission(call_timeout=10.0, test_timeout=1.0)
    with pytest.raises(WorkerTimeout, match="the test's calls ran past their total time limit"):
        sub.mini.burn_cpu(3)


def test_test_budget_counts_only_time_spent_in_the_submission(make_submission):
    sub = make_submission(call_timeout=10.0, test_timeout=2.0)
    for _ in range(3):
        assert sub.mini.burn_cpu(0.1) == "done"
        time.sleep(0.8)  # the grader's own work (2.4 s in all) does not use the 2 s budget
    with pytest.raises(WorkerTimeout, match="total time limit"):
        sub.mini.burn_cpu(5)


def test_cpu_limit_kills_the_worker(make_submission):
    sub = make_submission(call_timeout=20.0, test_timeout=20.0, cpu_seconds=1)
    with pytest.raises(WorkerCrashed, match="SIGXCPU|SIGKILL"):
        sub.mini.burn_cpu(5)


def test_file_size_limit(make_submission):
    mini = make_submission(max_file_mb=1).mini
    assert mini.write_file("small.bin", 0) == 0
    with pytest.raises(StudentException, match="File too large"):
        mini.write_file("big.bin", 3)


def test_open_files_limit(make_submission):
    mini = make_submission(max_open_files=32).mini
    assert mini.open_files(5) == 5
    with pytest.raises(StudentException, match="Too many open files"):
        mini.open_files(100)


def test_no_network_even_on_loopback(make_submission):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        mini = make_submission().mini
        with pytest.raises(StudentException, match="PermissionError|OSError|ConnectionRefused"):
            mini.connect(port)
        with pytest.raises(StudentException, match="Error"):
            mini.raw_connect(port)  # below the Python-level block: the kernel refuses
        server.settimeout(0.2)
        with pytest.raises(socket.timeout):
            server.accept()
    finally:
        server.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")
def test_workers_start_in_the_warm_parents_empty_network_namespace(make_submission):
    """The warm parent isolates itself once; a worker inherits that namespace, not the
    grader's, and has no interface up (not even loopback) and no right to bring one up.
    Two workers alive at the same time never share a namespace."""
    ours = os.readlink("/proc/self/ns/net")
    first = make_submission()
    parents = first.mini.network_namespace()
    assert parents.startswith("net:[") and parents != ours
    with pytest.raises(StudentException, match="Error"):
        first.mini.raw_connect(1)
    second = make_submission()  # spawned while the first is alive: a namespace of its own
    assert second.mini.network_namespace() not in (ours, parents)
    first.close()
    second.close()
    third = make_submission()  # alone again: the warm parent's namespace
    assert third.mini.network_namespace() == parents


def test_environment_is_scrubbed_and_cwd_is_a_scratch_copy(make_submission, monkeypatch):
    mini = make_submission().mini
    env = mini.environment()
    assert set(env) <= {"PATH", "HOME", "TMPDIR", "TEMP", "TMP", "LANG", "OMP_NUM_THREADS",
                        "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"}
    assert env["TEMP"] == env["TMP"] == env["TMPDIR"] == os.path.join(env["HOME"], ".tmp")
    info = mini.whoami()
    assert info["files"] == ["mini.py"] or set(info["files"]) <= {"mini.py", ".tmp"}
    if os.geteuid() == 0:
        assert info["uid"] >= 61000  # dropped to an unprivileged per-worker uid


def test_each_test_gets_a_fresh_worker(make_submission, mini_course, warm_parent):
    sub = make_submission()
    assert sub.mini.bump() == 1
    assert sub.mini.bump() == 2
    fresh = Submission(sub._sandbox, seed=1, test_timeout=5)
    try:
        assert fresh.mini.bump() == 1  # module state did not leak from the other "test"
    finally:
        fresh.close()


def test_crash_fails_the_call_and_a_new_worker_works(make_submission):
    sub = make_submission(MODULE + "\ndef die():\n    os._exit(9)\n")
    with pytest.raises(WorkerCrashed, match="exit code 9"):
        sub.mini.die()
    fresh = Submission(sub._sandbox, seed=1, test_timeout=5)
    try:
        assert fresh.mini.identity(3) == 3
    finally:
        fresh.close()


def test_module_failing_at_import_is_reported_without_waiting(make_submission):
    sub = make_submission("while True:\n    pass\n", call_timeout=2.0)  # the probe times out
    t0 = time.monotonic()
    with pytest.raises(ModuleUnavailable, match="timed out"):
        sub.mini.identity(1)
    assert time.monotonic() - t0 < 2.0  # not a second 2 s import timeout


def test_in_process_mode_gives_the_same_values(make_submission):
    isolated = make_submission().mini
    local = make_submission(isolation="none").mini
    x = np.linspace(0, 1, 7)
    for mini in (isolated, local):
        out = mini.identity(x)
        assert isinstance(out, np.ndarray) and out is not x
        assert mini.Box([1, 2]).total() == 3
    with pytest.raises(StudentException, match="ValueError: bad value in inner"):
        local.fail_deep()


def test_in_process_mode_starts_every_test_from_fresh_modules(make_submission):
    first = make_submission(isolation="none")
    assert (first.mini.bump(), first.mini.bump()) == (1, 2)
    second = Submission(first._sandbox, seed=2, test_timeout=60.0)  # the next test
    assert second.mini.bump() == 1


SEEDED = '''
import random
import numpy as np
import torch


def draws():
    return (random.random(), float(np.random.rand()), float(torch.rand(1)), torch.get_num_threads())
'''


def test_worker_rngs_are_seeded_per_test_and_single_threaded(make_submission):
    first = make_submission(SEEDED)
    again = Submission(first._sandbox, seed=1, test_timeout=5)
    other = Submission(first._sandbox, seed=2, test_timeout=5)
    try:
        a, b, c = first.mini.draws(), again.mini.draws(), other.mini.draws()
    finally:
        again.close()
        other.close()
    assert a == b  # same seed, fresh worker: the same numbers
    assert a[:3] != c[:3]  # another test's seed: other numbers
    assert a[3] == 1  # torch runs on one thread


def test_uid_locks_are_exclusive_across_warm_parents(tmp_path):
    from autograder.sandbox.warm_parent import UidPool

    first, second = UidPool(str(tmp_path)), UidPool(str(tmp_path))
    second.next = first.next  # both would start at the same slot
    a, dirty = first.acquire()
    assert not dirty
    b, _ = second.acquire()
    assert a != b  # the second pool skips the uid the first one holds
    first.release(a)
    second.next = a - 61000
    assert second.acquire() == (a, False)  # released cleanly: free again, nothing to kill
    os.close(second.held.pop(b))  # b's owner dies: the lock goes, the "dirty" mark stays
    third = UidPool(str(tmp_path))
    third.next = b - 61000
    assert third.acquire() == (b, True)  # so the next owner kills whatever b left behind


def test_an_abandoned_uid_stays_dirty_for_its_next_owner(tmp_path):
    """A uid whose processes could not be confirmed dead is given up, not released."""
    from autograder.sandbox.warm_parent import UidPool

    pool = UidPool(str(tmp_path))
    uid, _ = pool.acquire()
    pool.abandon(uid)
    assert uid not in pool.held
    pool.next = uid - 61000
    assert pool.acquire() == (uid, True)  # free again, and the next owner kills first


@pytest.mark.skipif(os.geteuid() != 0, reason="per-worker uids exist only when grading as root")
def test_two_warm_parents_never_share_a_uid(make_submission, warm_parent):
    from autograder.sandbox.fork_backend import WarmParent

    sub = make_submission()
    other_parent = WarmParent(with_torch=False)
    try:
        sandbox = sub._sandbox
        mine = sub.mini.whoami()["uid"]
        sandbox.parent = other_parent
        theirs = Submission(sandbox, seed=1, test_timeout=5)
        try:
            assert theirs.mini.whoami()["uid"] != mine
            theirs.close()  # cleaning up its worker must not touch ours
            assert sub.mini.identity(5) == 5
        finally:
            sandbox.parent = warm_parent
    finally:
        other_parent.close()


def test_state_dict_comes_back_by_value_and_reseeding_reaches_the_worker(make_submission):
    sub = make_submission()
    state = sub.mini.TwoLayer().state_dict()
    assert type(state) is dict and list(state) == ["fc1.weight", "fc1.bias", "fc2.weight",
                                                   "fc2.bias"]
    assert all(type(v).__name__ == "Tensor" for v in state.values())
    sub.seed(7)
    first = sub.mini.identity(0)  # any call; then draw in the worker after reseeding
    assert first == 0
    sub.seed(7)
    a = sub.mini.train_steps(sub.mini.TwoLayer(), __import__("torch").ones(2, 3),
                             __import__("torch").zeros(2, 2), 1)
    sub.seed(7)
    b = sub.mini.train_steps(sub.mini.TwoLayer(), __import__("torch").ones(2, 3),
                             __import__("torch").zeros(2, 2), 1)
    assert a == b  # same seed in the worker: the same initial weights, the same loss


def test_banned_module_is_an_import_error_so_probes_carry_on(make_submission, mini_course,
                                                            warm_parent, tmp_path):
    source = (MODULE + "\ndef probe():\n    import importlib.util\n"
              "    found = importlib.util.find_spec('sklearn') is not None\n"
              "    try:\n        import sklearn\n        return (found, 'imported')\n"
              "    except ImportError as exc:\n        return (found, str(exc))\n"
              "\ndef optimizer():\n    p = torch.zeros(2, requires_grad=True)\n"
              "    torch.optim.SGD([p], lr=0.1).step()\n    return 'ok'\n")
    folder = tmp_path / "banned"
    folder.mkdir()
    (folder / "mini.py").write_text(source)
    assignment = dataclasses.replace(mini_course.assignment("90-mini"), banned=("sklearn",),
                                     limits=dataclasses.replace(
                                         mini_course.assignment("90-mini").limits,
                                         call_timeout=20.0))
    sandbox = SubmissionSandbox(assignment, folder, "process", warm_parent)
    sub = Submission(sandbox, seed=1, test_timeout=60)
    try:
        assert sub.mini.probe() == (True, "sklearn is banned in this assignment")
        assert sub.mini.optimizer() == "ok"  # torch.optim probes for sklearn internally
    finally:
        sub.close()


def test_per_file_module_ban_applies_to_that_file_only(mini_course, warm_parent, tmp_path):
    folder = tmp_path / "perfile"
    folder.mkdir()
    (folder / "mini.py").write_text(
        "def add(a, b):\n    import torch\n    return int(torch.tensor(a) + b)\n")
    (folder / "helper.py").write_text(
        "def add(a, b):\n    import torch\n    return int(torch.tensor(a) + b)\n")
    base = mini_course.assignment("90-mini")
    assignment = dataclasses.replace(base, modules=("mini.py", "helper.py"), banned=(),
                                     banned_per_file=(("mini", ("torch",)),))
    sandbox = SubmissionSandbox(assignment, folder, "process", warm_parent)
    sub = Submission(sandbox, seed=1, test_timeout=60)
    try:
        with pytest.raises(StudentException, match="torch is banned in mini.py in this assignment"):
            sub.mini.add(2, 3)
        assert sub.helper.add(2, 3) == 5  # the other file may use torch
    finally:
        sub.close()


@pytest.mark.skipif(torch.accelerator.is_available(), reason="with an accelerator, seed_torch is "
                    "torch.manual_seed itself")
def test_seed_torch_draws_as_manual_seed_does_without_recording_stacks(monkeypatch):
    """Graders seed torch before every test. ``torch.manual_seed`` also queues lazy CUDA/XPU/MTIA
    seeds, each recording ``traceback.format_stack()`` (milliseconds in a grading process with a
    full linecache); on a CPU-only machine ``seed_torch`` seeds the CPU generator alone."""
    import traceback

    from autograder.sandbox.seeding import seed_torch

    torch.manual_seed(1234)
    want = torch.rand(5)

    def no_stacks(*args, **kwargs):
        raise AssertionError("format_stack called")

    monkeypatch.setattr(traceback, "format_stack", no_stacks)
    with pytest.raises(AssertionError, match="format_stack"):
        torch.manual_seed(1234)  # what the plugin used to call before every test
    seed_torch(torch, 1234)
    assert torch.equal(torch.rand(5), want)


@pytest.mark.parametrize("isolation", ["process", "none"])
def test_a_kept_value_shows_whether_a_function_changed_its_input(make_submission, isolation):
    submission = make_submission(isolation=isolation)
    x = np.arange(6.0).reshape(2, 3)
    kept = submission.keep(x)
    np.testing.assert_array_equal(submission.mini.scale_copy(kept, 2.0), 2 * x)
    np.testing.assert_array_equal(kept.value(), x)  # left alone
    submission.mini.scale_in_place(kept, 3.0)
    np.testing.assert_array_equal(kept.value(), 3 * x)  # changed in place: the grader sees it
    np.testing.assert_array_equal(x, np.arange(6.0).reshape(2, 3))  # the grader's copy is not
    tensor = submission.keep(torch.ones(3))
    submission.mini.scale_in_place(tensor, 2.0)
    assert torch.equal(tensor.value(), torch.full((3,), 2.0))
