"""Student releases, the leak check, the CI command, results formats and Gradescope packages.

Everything runs the real console script (``python -m autograder.cli``) or the
real generated scripts (``run_autograder``, the release's workflow step).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import jsonschema
import nbformat
import pytest
import yaml

from autograder.config import load_course, parse_assignment
from autograder.errors import ConfigError, UsageError
from autograder.packaging.bundle import copy_assignment
from autograder.packaging.install import dlgrade_wheel
from autograder.packaging.leakcheck import check_student_files
from autograder.packaging.notebook_export import collect_tests
from autograder.packaging.release import LeakError, build_release, public_points
from autograder.packaging.workflow import (
    CI_STEP,
    JUNIT_FILE,
    JUNIT_REPORT_ACTION,
    REPORT_STEP,
    WORKFLOW_PATH,
)
from autograder.submission import MAX_ENTRIES
from tests.conftest import FIXTURE_COURSE, HONEST_MINI, REPO

DLGRADE = [sys.executable, "-m", "autograder.cli"]
BIN = str(Path(sys.executable).parent)
COURSE = load_course(REPO)
FEEDFORWARD = COURSE.assignment("02-feedforward")

# Gradescope's results.json (github.com/gradescope/autograder_samples, docs/specs.md): the keys
# the spec defines, with their types; nothing else is allowed at the top level or in a test.
VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
GRADESCOPE_SCHEMA = {
    "type": "object",
    "required": ["score", "execution_time", "output", "visibility", "stdout_visibility", "tests"],
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number", "minimum": 0},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "visibility": VISIBILITY,
        "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"},
        "leaderboard": {"type": "array"},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["score", "max_score", "status", "name", "output", "visibility"],
                "additionalProperties": False,
                "properties": {
                    "score": {"type": "number", "minimum": 0},
                    "max_score": {"type": "number", "minimum": 0},
                    "status": {"enum": ["passed", "failed"]},
                    "name": {"type": "string", "minLength": 1},
                    "name_format": {"type": "string"},
                    "number": {"type": "string"},
                    "output": {"type": "string"},
                    "output_format": {"type": "string"},
                    "tags": {"type": "array"},
                    "visibility": VISIBILITY,
                    "extra_data": {"type": "object"},
                },
            },
        },
    },
}


def dlgrade(*args, cwd=None, course=FIXTURE_COURSE, env=None):
    full_env = {**os.environ, "PATH": BIN + os.pathsep + os.environ.get("PATH", ""), **(env or {})}
    full_env.pop("DLGRADE_COURSE", None)
    if course is not None:
        full_env["DLGRADE_COURSE"] = str(course)
    return subprocess.run([*DLGRADE, *args], capture_output=True, text=True, cwd=cwd,
                          env=full_env, timeout=600)


@pytest.fixture
def honest(tmp_path):
    folder = tmp_path / "honest"
    folder.mkdir()
    (folder / "mini.py").write_text(HONEST_MINI)
    return folder


@pytest.fixture
def starter_mini():
    return FIXTURE_COURSE / "starter" / "90-mini"


# ---------------------------------------------------------------- results formats
def test_one_result_in_every_format(honest, tmp_path):
    """json, gradescope, junit and markdown come from the same grading and agree."""
    out = {}
    for fmt in ("json", "gradescope", "junit", "markdown"):
        path = tmp_path / f"result.{fmt}"
        proc = dlgrade("grade", "90-mini", str(honest), "--format", fmt, "-o", str(path))
        assert proc.returncode == 0, proc.stderr
        assert "total: 4 / 4 points" in proc.stdout  # the table is still shown with -o
        out[fmt] = path.read_text()
    ours, gs = json.loads(out["json"]), json.loads(out["gradescope"])
    jsonschema.validate(gs, GRADESCOPE_SCHEMA)
    assert ours["score"] == gs["score"] == 4
    assert [t["name"] for t in ours["tests"]] == [t["name"] for t in gs["tests"]]
    assert gs["extra_data"]["assignment"] == "90-mini"
    suite = ElementTree.fromstring(out["junit"]).find("testsuite")
    assert suite.get("tests") == "4" and suite.get("failures") == "0"
    assert len(suite.findall("testcase")) == 4
    assert "| test | points | status | feedback |" in out["markdown"]
    assert "90-mini: 4 / 4 points" in out["markdown"]


def test_format_without_output_goes_to_stdout(starter_mini):
    """--format junit alone prints the XML (for pipes), failures carry the reason."""
    proc = dlgrade("grade", "90-mini", str(starter_mini), "--format", "junit")
    assert proc.returncode == 0, proc.stderr
    root = ElementTree.fromstring(proc.stdout)
    failures = root.findall(".//failure")
    assert len(failures) == 4
    assert all("not implemented" in f.get("message") for f in failures)


def test_output_without_format_is_a_usage_error(honest, tmp_path):
    proc = dlgrade("grade", "90-mini", str(honest), "-o", str(tmp_path / "x"))
    assert proc.returncode == 2
    assert "--format" in proc.stderr


# ---------------------------------------------------------------- dlgrade ci
def test_ci_exit_code_junit_and_job_summary(honest, starter_mini, tmp_path):
    """Below --min-score: exit 1; at it: exit 0; JUnit written; the summary table appended."""
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    junit = tmp_path / "junit.xml"
    low = dlgrade("ci", "90-mini", str(starter_mini), "--min-score", "1", "--junit", str(junit),
                  env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert low.returncode == 1, low.stderr
    assert "below the minimum 1" in low.stderr
    assert ElementTree.parse(junit).getroot().get("failures") == "2"  # public tests only
    ok = dlgrade("ci", "90-mini", str(honest), "--min-score", "100%", "--junit", str(junit),
                 env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert ok.returncode == 0, ok.stderr
    text = summary.read_text()
    assert text.startswith("earlier step\n")
    assert text.count("| test | points | status | feedback |") == 2
    assert "90-mini (public tests): 2 / 2 points" in text
    assert "(hidden)" not in text


def test_ci_bad_min_score_is_a_usage_error(honest):
    proc = dlgrade("ci", "90-mini", str(honest), "--min-score", "lots")
    assert proc.returncode == 2
    assert "--min-score" in proc.stderr


# ---------------------------------------------------------------- release
@pytest.fixture(scope="module")
def release_02(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    rel = build_release(FEEDFORWARD, out, course_name=COURSE.name)
    with zipfile.ZipFile(rel.zip_path) as zf:
        zf.extractall(out / "unpacked")
    return rel, out / "unpacked" / "02-feedforward"


def test_release_contents(release_02):
    """Starter modules, public tests, handout, notebook, workflow; no solutions, no hidden tests."""
    rel, _ = release_02
    assert sorted(rel.files) == sorted(f"02-feedforward/{p}" for p in [
        ".github/workflows/dlgrade.yml", "README.md", "course.toml", "walkthrough.ipynb",
        "layers.py", "mlp.py", "train.py", dlgrade_wheel().name,
        "assignments/02-feedforward/assignment.toml",
        "assignments/02-feedforward/tests/conftest.py",
        "assignments/02-feedforward/tests/public/test_layers.py",
        "assignments/02-feedforward/tests/public/test_mlp.py",
        "assignments/02-feedforward/tests/public/test_train.py",
    ])
    assert rel.public_points == 40
    with zipfile.ZipFile(rel.zip_path) as zf:
        starter = zf.read("02-feedforward/layers.py").decode()
        readme = zf.read("02-feedforward/README.md").decode()
    assert starter == (REPO / "starter" / "02-feedforward" / "layers.py").read_text()
    assert "## How to check and submit" in readme
    assert "dlgrade check 02-feedforward" in readme


def test_release_is_reproducible(release_02, tmp_path):
    rel, _ = release_02
    again = build_release(FEEDFORWARD, tmp_path, course_name=COURSE.name)
    assert again.zip_path.read_bytes() == rel.zip_path.read_bytes()


def test_release_starter_scores_zero_and_reference_full(release_02, tmp_path):
    """`dlgrade check` in the unpacked release: starter 0 of 40, reference modules 40 of 40."""
    _, folder = release_02
    work = tmp_path / "02-feedforward"
    shutil.copytree(folder, work)
    proc = dlgrade("check", "02-feedforward", "--format", "json", "-o", "r.json", cwd=work,
                   course=None)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((work / "r.json").read_text())
    assert (result["score"], result["max_score"]) == (0, 40)
    for module in FEEDFORWARD.modules:
        shutil.copy(FEEDFORWARD.solutions_dir / module, work / module)
    proc = dlgrade("check", "02-feedforward", "--format", "json", "-o", "r.json", cwd=work,
                   course=None)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((work / "r.json").read_text())
    assert (result["score"], result["max_score"]) == (40, 40)


def test_release_workflow_is_valid_and_its_command_scores(release_02, tmp_path):
    """The workflow validates against GitHub's schema; its scoring command runs as written."""
    _, folder = release_02
    workflow = folder / WORKFLOW_PATH
    check = subprocess.run([os.path.join(BIN, "check-jsonschema"), "--builtin-schema",
                            "vendor.github-workflows", str(workflow)],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    parsed = yaml.safe_load(workflow.read_text())
    steps = parsed["jobs"]["check"]["steps"]
    command = next(s["run"] for s in steps if s.get("name") == CI_STEP)
    assert command == "dlgrade ci 02-feedforward --min-score 40 --junit dlgrade-junit.xml"
    # the report is rendered in the run (a check run per test), even when the score step fails
    names = [s.get("name") for s in steps]
    report = steps[names.index(REPORT_STEP)]
    assert names.index(REPORT_STEP) > names.index(CI_STEP)
    assert report["uses"] == JUNIT_REPORT_ACTION and report["if"] == "success() || failure()"
    assert report["with"]["report_paths"] == JUNIT_FILE
    assert parsed["permissions"] == {"contents": "read", "checks": "write"}
    env = {**os.environ, "PATH": BIN + os.pathsep + os.environ["PATH"]}
    env.pop("DLGRADE_COURSE", None)
    work = tmp_path / "repo"
    shutil.copytree(folder, work)
    starter = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True,
                             text=True, timeout=600)
    assert starter.returncode == 1, starter.stderr
    assert (work / JUNIT_FILE).is_file()
    for module in FEEDFORWARD.modules:
        shutil.copy(FEEDFORWARD.solutions_dir / module, work / module)
    solved = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True,
                            text=True, timeout=600)
    assert solved.returncode == 0, solved.stdout + solved.stderr
    assert ElementTree.parse(work / JUNIT_FILE).getroot().get("failures") == "0"


def test_walkthrough_notebook_is_valid_and_runs(release_02, tmp_path):
    """The generated notebook validates (nbformat) and runs on the reference without errors."""
    from nbclient import NotebookClient

    _, folder = release_02
    nb = nbformat.read(folder / "walkthrough.ipynb", as_version=4)
    nbformat.validate(nb)
    work = tmp_path / "nb"
    shutil.copytree(folder, work)
    for module in FEEDFORWARD.modules:
        shutil.copy(FEEDFORWARD.solutions_dir / module, work / module)
    env_path = os.environ["PATH"]
    os.environ["PATH"] = BIN + os.pathsep + env_path
    try:
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(work)}}).execute()
    finally:
        os.environ["PATH"] = env_path
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
    assert "40 / 40 public points" in text
    assert any("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
               for o in c.get("outputs", []))  # the points plot
    sections = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert any("`relu_forward`" in s for s in sections)


@pytest.mark.parametrize("ident", COURSE.assignment_ids())
def test_every_assignment_releases_without_leaks(ident, tmp_path):
    """Each assignment of the course passes the leak check, has public points and ships its
    walkthrough notebook (tests/test_walkthroughs.py runs each one)."""
    assignment = COURSE.assignment(ident)
    rel = build_release(assignment, tmp_path, course_name=COURSE.name)
    assert f"{ident}/walkthrough.ipynb" in rel.files
    assert 0 < rel.public_points < assignment.total_points
    assert public_points(assignment) == rel.public_points


def test_a_named_corpus_travels_with_the_graders(tmp_path):
    """``corpora = ["shakespeare"]``: every package of the assignment (release, Gradescope)
    holds ``assignments/corpora/shakespeare/excerpt.txt``, where its graders look for it;
    a name that is not one is a configuration error, a missing corpus a refusal."""
    transformers = COURSE.assignment("08-transformers")
    assert transformers.corpora == ("shakespeare",)
    for include_hidden in (False, True):
        course = tmp_path / f"course-{include_hidden}"
        dest = copy_assignment(transformers, course, include_hidden=include_hidden)
        copied = course / "assignments" / "corpora" / "shakespeare" / "excerpt.txt"
        assert copied.read_bytes() == transformers.corpus_files[0].read_bytes()
        copy = load_course(course).assignment("08-transformers")
        assert copy.corpus_files == [copied]
        # the graders find it from their own folder, as in the course
        assert (dest / "tests" / "conftest.py").resolve().parents[2] / "corpora" == copied.parents[1]

    root = tmp_path / "assignments" / "90-text"
    root.mkdir(parents=True)
    toml = root / "assignment.toml"
    base = 'id = "90-text"\ntitle = "t"\ntopic = 90\nmodules = ["a.py"]\ntotal_points = 1\n'
    for bad in ('"shakespeare"', '["../secrets"]', '["Shakespeare"]', "[3]"):
        toml.write_text(base + f"corpora = {bad}\n", encoding="utf-8")
        with pytest.raises(ConfigError, match="corpora"):
            parse_assignment(toml)
    toml.write_text(base + 'corpora = ["nowhere"]\n', encoding="utf-8")
    assert parse_assignment(toml).corpora == ("nowhere",)
    with pytest.raises(ConfigError, match="corpus it names is missing"):
        copy_assignment(parse_assignment(toml), tmp_path / "package", include_hidden=True)


# ---------------------------------------------------------------- leak check
@pytest.fixture
def course_copy(tmp_path):
    """A copy of the course with 02 only, safe to break."""
    root = tmp_path / "course"
    for sub in ("assignments", "solutions"):
        shutil.copytree(REPO / sub / "02-feedforward", root / sub / "02-feedforward")
    (root / "course.toml").write_text('name = "copy"\n')
    return root


def _region(module: str, k: int) -> str:
    """The k-th solution region of a reference module of 02, without its markers."""
    text = (REPO / "solutions" / "02-feedforward" / module).read_text()
    body = text.split("# BEGIN SOLUTION")[k + 1]
    return body[body.index("\n") + 1:body.index("# END SOLUTION")]


def _solution_line(module: str) -> str:
    lines = (REPO / "solutions" / "02-feedforward" / module).read_text().splitlines()
    inside, best = False, ""
    for line in lines:
        if "END SOLUTION" in line:
            inside = False
        if inside and len(line.split()) > len(best.split()):
            best = line
        if "BEGIN SOLUTION" in line:
            inside = True
    return best.strip()


def test_a_leaked_solution_line_is_refused(course_copy, tmp_path):
    """One solution line in the walkthrough's cells reaches the notebook: no release is written."""
    line = _solution_line("layers.py")
    squashed = " ".join(line.split()).replace(" ", "  ")  # whitespace does not hide it
    (course_copy / "assignments/02-feedforward/walkthrough.py").write_text(
        f"# %% [markdown]\n# Try this:\n\n# %%\n{squashed}\n")
    out = tmp_path / "out"
    proc = dlgrade("release", "02-feedforward", "-o", str(out), course=course_copy)
    assert proc.returncode == 1, proc.stderr
    assert "refusing to release" in proc.stderr
    assert "  walkthrough.ipynb (cell " in proc.stderr
    assert "solution code (solutions/02-feedforward/layers.py:" in proc.stderr
    assert not out.exists() or not any(out.iterdir())


def test_a_pasted_solution_block_in_a_public_test_is_refused(course_copy):
    """Public tests may call the same functions; a copied block of solution code is a leak."""
    assignment = load_course(course_copy).assignment("02-feedforward")
    block = _region("train.py", 1)
    test_file = course_copy / "assignments/02-feedforward/tests/public/test_train.py"
    test_file.write_text(test_file.read_text() + "\n\ndef _helper(model, X, y, epochs, lr, "
                         "batch_size, rng, n, losses):\n" + block)
    with pytest.raises(LeakError) as info:
        build_release(assignment, course_copy / "out")
    assert any(leak.file.endswith("tests/public/test_train.py") and "solution code" in leak.secret
               for leak in info.value.leaks)


def test_a_leaked_hidden_test_is_refused(course_copy):
    """A hidden test copied into a public test file is caught, as is the handout quoting one."""
    assignment = load_course(course_copy).assignment("02-feedforward")
    hidden = (course_copy / "assignments/02-feedforward/tests/hidden/test_mlp_hidden.py").read_text()
    start = hidden.index("@pytest.mark.points")
    end = hidden.index("@pytest.mark.points", start + 1)
    public = course_copy / "assignments/02-feedforward/tests/public/test_mlp.py"
    public.write_text(public.read_text() + "\n\n" + hidden[start:end])
    with pytest.raises(LeakError) as info:
        build_release(assignment, course_copy / "out")
    assert any("hidden test" in leak.secret and leak.file.endswith("tests/public/test_mlp.py")
               for leak in info.value.leaks)


def test_solution_code_in_the_handout_or_a_notebook_is_caught(course_copy, tmp_path):
    """Any text file counts, whatever its suffix; binary files are skipped."""
    assignment = load_course(course_copy).assignment("02-feedforward")
    block = _region("train.py", 1)
    assert len(block.splitlines()) > 5
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "README.md").write_text(f"# Hints\n\n```python\n{block}```\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(_solution_line("mlp.py"))])
    nbformat.write(nb, folder / "notes.ipynb")
    (folder / "hints.html").write_text(f"<pre>{_solution_line('layers.py')}</pre>\n")
    (folder / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0" + block.encode())  # binary
    leaks = check_student_files(assignment, folder)
    assert {leak.file for leak in leaks} == {"README.md", "notes.ipynb (cell 1)", "hints.html"}



# ---------------------------------------------------------------- Gradescope
@pytest.fixture(scope="module")
def gradescope_02(tmp_path_factory):
    out = tmp_path_factory.mktemp("gradescope")
    zip_path = build_gradescope(out)
    return zip_path


def build_gradescope(out: Path) -> Path:
    proc = dlgrade("package", "02-feedforward", "--format", "gradescope", "-o", str(out),
                   course=REPO)
    assert proc.returncode == 0, proc.stderr
    return out / "autograder.zip"


def run_autograder(zip_path: Path, root: Path, submission: dict[str, str] | Path,
                   metadata: dict | None = None) -> dict:
    """Gradescope's layout under ``root``, then ``run_autograder`` from the zip."""
    source = root / "source"
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(source)
        for info in zf.infolist():  # zipfile drops the mode bits: restore them
            os.chmod(source / info.filename, info.external_attr >> 16)
    sub = root / "submission"
    if isinstance(submission, Path):
        shutil.copytree(submission, sub, symlinks=True)
    else:
        sub.mkdir(parents=True)
        for name, text in submission.items():
            (sub / name).write_text(text)
    if metadata is not None:
        (root / "submission_metadata.json").write_text(json.dumps(metadata))
    packaged = root / "packaged-dlgrade"  # the packaged dlgrade, not this checkout
    with zipfile.ZipFile(next(source.glob("dlgrade-*.whl"))) as zf:
        zf.extractall(packaged)
    env = {**os.environ, "DLGRADE_GRADESCOPE_ROOT": str(root), "DLGRADE_PYTHON": sys.executable,
           "PYTHONPATH": str(packaged)}
    env.pop("DLGRADE_COURSE", None)
    proc = subprocess.run([str(source / "run_autograder")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(data, GRADESCOPE_SCHEMA)
    return data


def test_gradescope_zip_layout(gradescope_02):
    with zipfile.ZipFile(gradescope_02) as zf:
        names = set(zf.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
    assert {"setup.sh", "install.sh", "run_autograder", dlgrade_wheel().name, "course/course.toml",
            "course/assignments/02-feedforward/assignment.toml",
            "course/assignments/02-feedforward/tests/conftest.py",
            "course/assignments/02-feedforward/tests/hidden/test_mlp_hidden.py",
            "course/assignments/02-feedforward/tests/public/test_mlp.py"} <= names
    assert not any(n.startswith("solutions") or "/solutions/" in n for n in names)
    assert modes["run_autograder"] & modes["setup.sh"] & modes["install.sh"] & 0o111


def test_gradescope_zip_holds_the_wheel_setup_installs(gradescope_02, tmp_path):
    """setup.sh installs the bundled wheel (install.sh; tests/test_gradescope_run.py runs it)."""
    with zipfile.ZipFile(gradescope_02) as zf:
        install = zf.read("install.sh").decode()
        wheel = next(n for n in zf.namelist() if n.endswith(".whl"))
        assert "bash ./install.sh" in zf.read("setup.sh").decode()
        zf.extract(wheel, tmp_path)
    assert f"-m pip install ./{wheel}" in install
    with zipfile.ZipFile(tmp_path / wheel) as zf:
        assert "autograder/sandbox/warm_parent.py" in zf.namelist()


def test_gradescope_reference_scores_full_marks_on_time(gradescope_02, tmp_path):
    reference = {m: (FEEDFORWARD.solutions_dir / m).read_text() for m in FEEDFORWARD.modules}
    meta = {"id": 1, "created_at": "2026-10-22T20:00:00.000000+02:00",
            "assignment": {"due_date": "2026-10-22T23:59:00.000000+02:00",
                           "late_due_date": None, "total_points": "100.0"},
            "users": [{"email": "s@example.org", "id": 7, "name": "S"}]}
    data = run_autograder(gradescope_02, tmp_path / "autograder", reference, meta)
    assert data["score"] == 100
    assert len(data["tests"]) == len(collect_tests(FEEDFORWARD))  # every test, public and hidden
    hidden = [t for t in data["tests"] if t["visibility"] == "after_due_date"]
    assert sum(t["max_score"] for t in hidden) == 60
    assert data["extra_data"]["lateness"]["late"] is False
    assert "Submitted on time." in data["output"]


def test_gradescope_starter_scores_zero_and_lateness_is_reported(gradescope_02, tmp_path):
    meta = {"id": 2, "created_at": "2026-10-23T11:59:00Z",
            "assignment": {"due_date": "2026-10-22T23:59:00Z", "total_points": "100.0"},
            "users": []}
    data = run_autograder(gradescope_02, tmp_path / "autograder",
                          REPO / "starter" / "02-feedforward", meta)
    assert data["score"] == 0
    assert all(t["status"] == "failed" for t in data["tests"])
    assert data["extra_data"]["lateness"] == {
        "submitted_at": "2026-10-23T11:59:00+00:00", "due_date": "2026-10-22T23:59:00+00:00",
        "late_due_date": None, "late": True, "lateness_hours": 12.0,
        "message": "Submitted 12.0 h after the due date."}


def test_gradescope_rejected_submission_still_gets_a_result(gradescope_02, tmp_path):
    """A submission that cannot be graded gets score 0 and the reason, never a missing file."""
    data = run_autograder(gradescope_02, tmp_path / "autograder", {"notes.txt": "nothing here"})
    assert data["score"] == 0
    assert data["output"]
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "layers.py").symlink_to("/etc/passwd")  # never followed
    data = run_autograder(gradescope_02, tmp_path / "autograder2", linked)
    assert data["score"] == 0
    assert "layers.py not found" in data["output"]
    crowded = tmp_path / "crowded"
    crowded.mkdir()
    for i in range(MAX_ENTRIES + 1):
        (crowded / f"f{i}.txt").write_text("x")
    data = run_autograder(gradescope_02, tmp_path / "autograder3", crowded)
    assert data["score"] == 0 and data["tests"] == []
    assert "could not be graded" in data["output"]


# ---------------------------------------------------------------- notebook exports (no tools)
@pytest.mark.parametrize("ident", COURSE.assignment_ids())
def test_notebook_exports_carry_every_test_and_point(ident):
    """Collected for nbgrader/otter: one cell per test (and per parametrized case), 100 points."""
    from autograder.packaging.notebook_export import collect_tests

    assignment = COURSE.assignment(ident)
    if assignment.corpora:  # graders that read a corpus: dlgrade or Gradescope only
        with pytest.raises(UsageError, match=f"not the corpus '{assignment.corpora[0]}'"):
            collect_tests(assignment)
        return
    cells = collect_tests(assignment)
    assert sum(c.points for c in cells) == assignment.total_points
    assert 0 < sum(c.points for c in cells if c.hidden) < assignment.total_points
    assert len({(c.kind, c.file, c.name) for c in cells}) == len(cells)
    for cell in cells:  # each cell's source is a test module that defines its test
        compile(cell.source, cell.file, "exec")
        assert f"def {cell.name.split('[')[0]}(" in cell.source


def test_an_export_collects_its_own_tests_after_another_course_s_of_the_same_name(tmp_path):
    """A test module of another course with the same path under tests/ (a scaffold's
    ``tests/public/test_layers.py``, collected earlier in this process) is not reused."""
    from autograder.packaging.notebook_export import collect_tests
    from autograder.scaffold import scaffold_assignment

    course = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, course)
    scaffold_assignment(course, "11-graph-nets")
    other = load_course(course).assignment("11-graph-nets")
    assert {c.name for c in collect_tests(other)} == {
        "test_affine_forward", "test_affine_forward_flattens_each_example"}
    names = {c.name for c in collect_tests(FEEDFORWARD)}
    assert "test_affine_forward" not in names and "test_relu_forward" in names


def test_parametrized_cases_become_separate_cells():
    from autograder.packaging.notebook_export import collect_tests

    cells = collect_tests(COURSE.assignment("03-optimization"))
    cases = [c.name for c in cells if c.name.startswith("test_epochs_to_tolerance_matches_torch[")]
    assert len(cases) > 1
    assert all(c.grade_id.replace("-", "").replace("_", "").isalnum() for c in cells)


HIDDEN_CONFTEST = '''import numpy as np
import pytest


@pytest.fixture
def hidden_relu():
    return lambda x: np.where(x > 0, x, 0.0)  # hidden-conftest-marker
'''
HIDDEN_TEST = '''import numpy as np
import pytest

from autograder.testing import assert_close


@pytest.mark.points(1)
def test_relu_by_the_hidden_oracle(submission, rng, hidden_relu):
    x = rng.standard_normal((3, 4))
    out, _ = submission.layers.relu_forward(x)
    assert_close(out, hidden_relu(x), name="relu")
'''


def test_a_hidden_conftest_travels_in_hidden_cells_only(course_copy, tmp_path):
    """tests/hidden/conftest.py (oracles only hidden tests may see) is carried by each hidden
    test cell, which the tools strip for students, never by the setup cell or a public cell;
    the grading server loads it for the hidden test and not for a public one."""
    from autograder.packaging.notebook_export import collect_tests, setup_source
    from autograder.packaging.notebook_grading import NotebookGrader

    hidden = course_copy / "assignments" / "02-feedforward" / "tests" / "hidden"
    (hidden / "conftest.py").write_text(HIDDEN_CONFTEST)
    (hidden / "test_extra_hidden.py").write_text(HIDDEN_TEST)
    assignment = load_course(course_copy).assignment("02-feedforward")
    cells = collect_tests(assignment)
    assert all(("hidden-conftest-marker" in c.call()) == c.hidden for c in cells)
    assert "hidden-conftest-marker" not in setup_source(assignment)
    extra = next(c for c in cells if c.name == "test_relu_by_the_hidden_oracle")
    public = next(c for c in cells if c.name == "test_relu_forward")

    for modules, passes in ((REPO / "solutions" / "02-feedforward", True),
                            (REPO / "starter" / "02-feedforward", False)):
        work = tmp_path / modules.name / modules.parent.name
        shutil.copytree(modules, work)
        toml = (assignment.root / "assignment.toml").read_text()
        grader = NotebookGrader("02-feedforward", toml,
                                (assignment.root / "tests" / "conftest.py").read_text(), work)
        try:
            namespace = {"dlgrader": grader}
            for cell in (extra, public):
                if passes:
                    exec(cell.call(), namespace)
                else:
                    with pytest.raises(AssertionError, match="not implemented"):
                        exec(cell.call(), namespace)
            assert not (grader.tests / "public" / "conftest.py").exists()
        finally:
            grader.close()


def test_an_unwritable_output_folder_is_a_usage_error(tmp_path):
    """release and package say where they cannot write (exit 2), never a traceback."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    for args in (["release", "02-feedforward"], ["package", "02-feedforward", "--format",
                                                  "gradescope"]):
        proc = dlgrade(*args, "-o", str(blocker / "out"), course=REPO)
        assert proc.returncode == 2, proc.stderr
        assert "cannot write the" in proc.stderr and "Traceback" not in proc.stderr
