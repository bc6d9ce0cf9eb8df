"""The ``dlgrade`` command line. Click commands only: the work happens in the library.

Exit codes (every command):

\b
  0  success; for check/grade: the submission was graded, whatever its score
  1  a check failed: validate found a problem, generate --check found stale files
  2  usage error: unknown assignment, bad option, rejected submission, invalid config
  3  internal error: the graders or the platform failed (a bug to report)
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from pathlib import Path

import click

import autograder
from autograder.errors import UsageError
from autograder.results import FORMATS

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def _handle_errors(func):
    """Turn platform exceptions into one clear line and a documented exit code."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from autograder.gradebook.store import GradebookError
        from autograder.grading import GraderError
        from autograder.student_text import clean

        try:
            return func(*args, **kwargs)
        except UsageError as exc:  # a rejection may quote the submission's file names
            click.echo(f"dlgrade: error: {clean(str(exc))}", err=True)
            sys.exit(EXIT_USAGE)
        except GraderError as exc:
            click.echo(f"dlgrade: internal error: {exc}", err=True)
            sys.exit(EXIT_INTERNAL)
        except GradebookError as exc:
            click.echo(f"dlgrade: error: {exc}", err=True)
            sys.exit(EXIT_INTERNAL if "cannot write" in str(exc) else EXIT_USAGE)
        except (click.ClickException, click.exceptions.Exit, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # a platform bug: say so, keep the traceback for the report
            click.echo(f"dlgrade: internal error: {type(exc).__name__}: "
                       f"{clean(str(exc))}", err=True)
            if kwargs.get("debug") or "--debug" in sys.argv:
                traceback.print_exc()
            else:
                click.echo("(run again with --debug for the traceback)", err=True)
            sys.exit(EXIT_INTERNAL)

    return wrapper


def _course(ctx: click.Context):
    from autograder.config import find_course_root, load_course

    return load_course(find_course_root(ctx.obj.get("course")))


def _course_secret(course) -> None:
    """Official grading draws hidden inputs from the course secret: create it on first need."""
    from autograder.secret import ensure_course_secret, secret_path

    path = secret_path(course.assignments_dir)
    try:
        created = ensure_course_secret(course.assignments_dir)[1]
    except UsageError as exc:
        if path.exists():  # there is one this user cannot read: grading would differ
            raise
        # a read-only course folder (a TA's checkout, a student's copy): grade, and say so
        click.echo(f"note: {exc}; hidden tests draw their fixed inputs (`dlgrade secret` where "
                   "the course folder is writable, or $DLGRADE_SECRET, makes them per "
                   "submission)", err=True)
        return
    if created:
        click.echo(f"created the course secret {path} (hidden tests' inputs derive from it; "
                   "never give it to students)", err=True)


@click.group()
@click.version_option(autograder.__version__, prog_name="dlgrade")
@click.option("--course", type=click.Path(file_okay=False, path_type=Path),
              help="Course folder (default: $DLGRADE_COURSE, or the nearest folder above the "
                   "current one with course.toml or assignments/).")
@click.pass_context
def main(ctx: click.Context, course: Path | None) -> None:
    """dlgrade: grade deep-learning assignments with the student's code kept out of the scoring.

    \b
    Students:     dlgrade check 02-feedforward
    Instructors:  dlgrade validate --all
                  dlgrade grade 02-feedforward submission.zip --json results.json
                  dlgrade generate --check
                  dlgrade release 02-feedforward -o dist/
                  dlgrade package 02-feedforward --format gradescope|nbgrader|otter
                  dlgrade grade-batch 02-feedforward submissions/ --jobs 2
    CI:           dlgrade ci 02-feedforward --min-score 40 --junit results.xml

    \b
    Exit codes: 0 success (a graded submission, whatever its score);
    1 a check failed (validate, generate --check); 2 usage error (unknown
    assignment, rejected submission, invalid config); 3 internal error.
    """
    ctx.ensure_object(dict)
    ctx.obj["course"] = course


@main.command("list")
@click.pass_context
@_handle_errors
def list_cmd(ctx: click.Context) -> None:
    """List the course's assignments: id, topic, points, modules."""
    course = _course(ctx)
    assignments = course.assignments()
    if not assignments:
        click.echo(f"no assignments in {course.assignments_dir}")
        return
    for a in assignments:
        click.echo(f"{a.id:<22} topic {a.topic}  {a.total_points:>5g} pts  "
                   f"{', '.join(a.modules):<32} {a.title}")


@main.command()
@click.argument("assignment", required=False)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if starter/ is stale.")
@click.pass_context
@_handle_errors
def generate(ctx: click.Context, assignment: str | None, check: bool) -> None:
    """Generate starter/ASSIGNMENT from solutions/ASSIGNMENT (all assignments by default).

    Every `# BEGIN SOLUTION` ... `# END SOLUTION` region becomes a stub that raises
    NotImplementedError with the region's hint; everything else is copied.
    """
    from autograder.authoring import stale_files, write_starter

    course = _course(ctx)
    targets = [course.assignment(assignment)] if assignment else course.assignments()
    stale_total = 0
    for a in targets:
        if not a.solutions_dir.is_dir():
            raise UsageError(f"{a.id}: no reference solution in {a.solutions_dir}")
        if check:
            stale = stale_files(a.solutions_dir, a.starter_dir)
            stale_total += len(stale)
            for item in stale:
                click.echo(f"{a.id}: stale: {item}")
            if not stale:
                click.echo(f"{a.id}: starter up to date")
        else:
            written = write_starter(a.solutions_dir, a.starter_dir)
            click.echo(f"{a.id}: wrote {len(written)} file(s) to {a.starter_dir}")
    if check and stale_total:
        click.echo("starter/ is stale: run `dlgrade generate`", err=True)
        sys.exit(EXIT_CHECK_FAILED)


def _isolation_option(func):
    func = _worker_option(func)
    return click.option(
        "--isolation", type=click.Choice(["process", "none"]), default="process", show_default=True,
        help="'process': your code runs in a sandboxed worker (the official way). 'none': in this "
             "process, so breakpoint() and debuggers work; no limits, no protection.")(func)


def _use_worker(ctx, param, value: str | None) -> str | None:
    """``--worker``: every grading process started from here uses this backend."""
    if value:
        from autograder.sandbox.backend import ENV_VAR

        os.environ[ENV_VAR] = value
    return value


def _worker_option(func):
    return click.option(
        "--worker", type=click.Choice(["fork", "spawn"]), default=None, expose_value=False,
        callback=_use_worker, is_eager=True,
        help="How workers start: 'fork' from a warm parent (Linux; the default there) or "
             "'spawn' fresh (any OS; the default on macOS and Windows). Also $DLGRADE_WORKER.")(func)


def _submission_paths(paths: tuple[Path, ...], assignment) -> list[Path]:
    if paths:
        return list(paths)
    cwd = Path.cwd()
    found = [cwd / m for m in assignment.modules if (cwd / m).is_file()]
    if not found:
        raise UsageError(f"none of {', '.join(assignment.modules)} is in {cwd}; "
                         "pass the folder or files to check")
    return found


def _output_options(func):
    func = click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
                        help="Also write the results JSON here (same as --format json -o PATH).")(func)
    func = click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path),
                        help="Write the --format output to this file, atomically (the table is "
                             "still shown).")(func)
    return click.option(
        "--format", "fmt", type=click.Choice(["table", *FORMATS]), default="table",
        show_default=True,
        help="table: for people. json: dlgrade's results (Gradescope-compatible). gradescope: "
             "Gradescope's results.json exactly. junit: JUnit XML. markdown: a summary table. "
             "Without -o it goes to stdout instead of the table.")(func)


_OUTPUT_NAMES = {"json": "results JSON", "gradescope": "Gradescope results.json",
                 "junit": "JUnit XML", "markdown": "Markdown summary"}


def _write_output(path: Path, text: str, what: str) -> None:
    from autograder.results import write_text_atomic

    try:
        write_text_atomic(path, text)
    except OSError as exc:
        raise UsageError(f"cannot write the {what} to {path}: {exc.strerror or exc}") from None
    click.echo(f"{what} written to {path}", err=True)


def _run_grade(assignment, paths, include_hidden, isolation, outputs=(), show_table=True,
               metadata=None, require=()):
    """Grade, show the table, write each ``(format, path)`` of ``outputs``; return the result.

    A rejected submission still gets its ``gradescope`` output (score 0, the
    reason): Gradescope must always find a results.json.
    """
    from autograder.errors import SubmissionRejected
    from autograder.grading import ensure_protections, grade_submission, shared_backend
    from autograder.results import rejected_gradescope, render, render_table

    if isolation == "process":  # start it now: it loads numpy/torch while pytest starts up
        backend = shared_backend(assignment.students_use_torch)
        ensure_protections(backend, require)
        _say_protections_off(backend, official=bool(include_hidden))
    try:
        result = grade_submission(assignment, paths if len(paths) > 1 else paths[0],
                                  include_hidden=include_hidden, isolation=isolation,
                                  show_pytest_output=isolation == "none", require=require)
    except SubmissionRejected as exc:
        for fmt, path in outputs:
            if fmt == "gradescope" and path is not None:
                _write_output(path, rejected_gradescope(assignment, str(exc)),
                              _OUTPUT_NAMES["gradescope"])
        raise
    if show_table:  # shown first: an output path that fails loses nothing
        if isolation == "process":
            click.echo(_protections_header(backend, result.protections))
        if result.output:  # the student's import errors: cleaned, and never after the table,
            click.echo(result.output)  # whose total line is the last thing printed
        click.echo(render_table(result))
    for fmt, path in outputs:
        text = render(result, fmt, metadata=metadata)
        if path is None:
            click.echo(text, nl=False)
        else:
            _write_output(path, text, _OUTPUT_NAMES[fmt])
    return result


def _outputs(fmt: str, output: Path | None, json_path: Path | None) -> list:
    if output is not None and fmt == "table":
        raise UsageError("-o/--output needs --format (json, gradescope, junit or markdown)")
    outputs = [] if fmt == "table" else [(fmt, output)]
    if json_path is not None:
        outputs.append(("json", json_path))
    return outputs


@main.command()
@click.argument("assignment")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@_isolation_option
@_output_options
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.pass_context
@_handle_errors
def check(ctx, assignment, paths, isolation, fmt, output, json_path, debug) -> None:
    """Run the public tests on your work (students).

    PATHS: a folder, a .zip, or .py files; by default the assignment's module
    files in the current folder. Exit status 0 whenever your work was graded.
    """
    a = _course(ctx).assignment(assignment)
    outputs = _outputs(fmt, output, json_path)
    _run_grade(a, _submission_paths(paths, a), False, isolation, outputs,
               show_table=fmt == "table" or output is not None)


def _ensure_protections_here(required) -> None:
    """Refuse a batch before anything is graded when this machine lacks a required protection
    (each grading process checks again; on a cluster, each worker)."""
    from autograder.grading import ensure_protections
    from autograder.sandbox.backend import start_backend

    backend = start_backend(with_torch=False)
    try:
        ensure_protections(backend, required)
    finally:
        backend.close()


def _protections_header(backend, active: list[str]) -> str:
    """The table's first line: the worker backend and the protections that were in force."""
    from autograder.sandbox import protections as P

    off = P.off(active)
    return (f"sandbox: {backend.kind} worker; in force: {', '.join(active)}"
            + (f"; off here: {', '.join(off)}" if off else ""))


def _say_protections_off(backend, official: bool) -> None:
    """On stderr, only where protections are off: which, and why."""
    from autograder.sandbox import protections as P

    off = P.off(backend.protections(), per_submission=False)
    if not off:
        return
    why = "".join(f"\n  - {note}" for note in backend.notes())
    who = ("" if official else
           " Your code still runs in a separate process with limits; the official grade "
           "is computed where the course's required protections are on.")
    click.echo(f"note: protections off here: {', '.join(off)}.{who}{why}", err=True)


@main.command()
@click.argument("assignment")
@click.argument("submission", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@_isolation_option
@_output_options
@click.option("--public-only", is_flag=True, help="Skip the hidden tests.")
@click.option("--submission-metadata", type=click.Path(dir_okay=False, path_type=Path),
              help="Gradescope's submission_metadata.json: its due date and submission time "
                   "are recorded with the result (lateness). Ignored when absent.")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.pass_context
@_handle_errors
def grade(ctx, assignment, submission, isolation, fmt, output, json_path, public_only,
          submission_metadata, debug) -> None:
    """Grade SUBMISSION (a folder, a .zip, or .py files) with public and hidden tests.

    Exit status 0 whenever the submission was graded, whatever its score.
    """
    from autograder.packaging.gradescope import read_submission_metadata

    a = _course(ctx).assignment(assignment)
    if not public_only:
        _course_secret(_course(ctx))
    metadata = read_submission_metadata(submission_metadata) if submission_metadata else None
    _run_grade(a, list(submission), not public_only, isolation, _outputs(fmt, output, json_path),
               show_table=fmt == "table" or output is not None, metadata=metadata,
               require=_course(ctx).grading.require_protections if isolation == "process" else ())


def _parse_min_score(text: str | None, max_score: float) -> float | None:
    if text is None:
        return None
    try:
        if text.endswith("%"):
            return float(text[:-1]) / 100 * max_score
        return float(text)
    except ValueError:
        raise UsageError(f"--min-score: expected points (e.g. 40) or a percentage (e.g. 80%), "
                         f"got {text!r}") from None


@main.command()
@click.argument("assignment")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--min-score", metavar="POINTS|PCT%",
              help="Exit 1 when the public score is below this (points, or a percentage of the "
                   "public points).")
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write JUnit XML here (for CI test reports).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the results JSON here.")
@_worker_option
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.pass_context
@_handle_errors
def ci(ctx, assignment, path, min_score, junit_path, json_path, debug) -> None:
    """Score the public tests in CI: JUnit XML, a job summary, an exit code.

    PATH: a folder, a .zip or a .py file (default: the assignment's modules in
    the current folder). Where GITHUB_STEP_SUMMARY is set (GitHub Actions), a
    Markdown table of the results is appended to it.

    \b
    Exit status: 0 graded and at or above --min-score; 1 below it;
    2 usage error (e.g. no submission found); 3 internal error.
    """
    import os

    from autograder.results import to_markdown

    a = _course(ctx).assignment(assignment)
    outputs = [("junit", junit_path)] if junit_path else []
    if json_path:
        outputs.append(("json", json_path))
    paths = [path] if path else _submission_paths((), a)
    result = _run_grade(a, paths, False, "process", outputs)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            with open(summary, "a", encoding="utf-8") as fh:
                fh.write(to_markdown(result, title=f"{a.id} (public tests)") + "\n")
        except OSError as exc:
            click.echo(f"dlgrade: warning: cannot append to GITHUB_STEP_SUMMARY ({summary}): "
                       f"{exc.strerror or exc}", err=True)
    threshold = _parse_min_score(min_score, result.max_score)
    if threshold is not None and result.score < threshold - 1e-9:
        click.echo(f"score {result.score:g} is below the minimum {threshold:g}", err=True)
        sys.exit(EXIT_CHECK_FAILED)


@main.command()
@click.argument("assignment")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("dist"), show_default=True, help="Folder for the zip.")
@click.option("--requirement", default=None,
              help="What the release's GitHub workflow pip-installs to get dlgrade "
                   "[default: the dlgrade wheel in the release].")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.pass_context
@_handle_errors
def release(ctx, assignment, out_dir, requirement, debug) -> None:
    """Write the student release zip: starter, public tests, handout, notebook, CI workflow.

    Every file is leak-checked first (normalised token n-grams against the
    solution regions and the hidden tests); a release with a leak is refused
    (exit 1) and each leak is listed.
    """
    from autograder.packaging.release import LeakError, build_release

    course = _course(ctx)
    a = course.assignment(assignment)
    try:
        rel = build_release(a, out_dir, course_name=course.name, requirement=requirement)
    except LeakError as exc:
        click.echo(f"dlgrade: {exc}", err=True)
        sys.exit(EXIT_CHECK_FAILED)
    except OSError as exc:
        raise UsageError(f"cannot write the release to {out_dir}: {exc.strerror or exc}") from None
    click.echo(f"{a.id}: wrote {rel.zip_path} ({len(rel.files)} files, no leaks; public tests "
               f"worth {rel.public_points:g} of {a.total_points:g} points)")


@main.command()
@click.argument("assignment")
@click.option("--format", "fmt", type=click.Choice(["gradescope", "nbgrader", "otter"]),
              required=True, help="gradescope: autograder.zip. nbgrader: a course folder with "
                                  "source/. otter: an otter-assign master notebook.")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("dist"), show_default=True, help="Folder to write into.")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.pass_context
@_handle_errors
def package(ctx, assignment, fmt, out_dir, debug) -> None:
    """Package an assignment for Gradescope, nbgrader or otter-grader.

    \b
    gradescope  OUT/autograder.zip: setup.sh, run_autograder, all tests, dlgrade itself
    nbgrader    OUT/source/ID/ID.ipynb + OUT/nbgrader_config.py (then: nbgrader
                generate_assignment ID; nbgrader autograde ID)
    otter       OUT/ID.ipynb, a master notebook (then: otter assign ID.ipynb dist)
    """
    import importlib

    course = _course(ctx)
    a = course.assignment(assignment)
    module, function = {"gradescope": ("gradescope", "build_autograder_zip"),
                        "nbgrader": ("nbgrader", "build_course"),
                        "otter": ("otter", "build_master")}[fmt]
    writer = getattr(importlib.import_module(f"autograder.packaging.{module}"), function)
    if fmt == "gradescope":  # the package carries the secret its hidden tests derive from
        _course_secret(course)
    try:
        written = writer(a, out_dir, course_name=course.name)
    except OSError as exc:
        raise UsageError(f"cannot write the {fmt} package to {out_dir}: "
                         f"{exc.strerror or exc}") from None
    click.echo(f"{a.id}: wrote {written}")


@main.command("grade-batch")
@click.argument("assignment")
@click.argument("submissions", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Submissions graded at once (local backend).")
@click.option("--pin-cpus/--no-pin-cpus", default=None,
              help="Pin each job (its grader, warm parent and sandboxed workers) to one CPU, "
                   "jobs spread over the CPUs [default: pin when --jobs is at least the "
                   "number of CPUs: 2 jobs on 2 CPUs then grade about 10% more per minute "
                   "on an otherwise idle machine].")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path),
              help="The SQLite gradebook (default: gradebook.sqlite in the course folder).")
@click.option("--force", is_flag=True, help="Regrade submissions even when unchanged.")
@click.option("--backend", type=click.Choice(["local", "dask"]), default="local", show_default=True)
@click.option("--scheduler", metavar="ADDRESS",
              help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (with --backend dask).")
@_worker_option
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.pass_context
@_handle_errors
def grade_batch_cmd(ctx, assignment, submissions, jobs, pin_cpus, db, force, backend, scheduler,
                    debug):
    """Grade a whole class into the gradebook: parallel, resumable, history kept.

    SUBMISSIONS is one folder or .zip per student (named by student id), a
    Gradescope "export submissions" folder, or an nbgrader course folder
    (submitted/<student>/<assignment>/). Unchanged submissions are skipped, so an
    interrupted batch resumes where it stopped; --force regrades everything.
    Exit status 0 when the batch ran, even if some submissions could not be graded.
    """
    from autograder.batch.discover import discover
    from autograder.batch.runner import LocalBackend, grade_batch
    from autograder.gradebook.store import Gradebook

    course = _course(ctx)
    a = course.assignment(assignment)
    _course_secret(course)
    found = discover(submissions, a.id)
    if backend == "dask":
        from autograder.batch.dask_backend import DaskBackend

        if not scheduler:
            raise UsageError("--backend dask needs --scheduler tcp://HOST:PORT")
        runner_backend = DaskBackend(scheduler)
    else:
        runner_backend = LocalBackend(jobs, pin_cpus=pin_cpus)
        _ensure_protections_here(course.grading.require_protections)
    db_path = db or course.gradebook_path
    click.echo(f"grading {len(found)} submission(s) of {a.id} ({found[0].layout} layout) "
               f"into {db_path} with {backend} backend" + (f", {jobs} job(s)" if backend == "local"
                                                          else f" at {scheduler}"))
    with Gradebook(db_path) as book, click.progressbar(
            length=len(found), label="grading", show_eta=True, show_pos=True,
            file=sys.stderr) as bar:
        book.lock_for_writing()
        summary = grade_batch(a, course.root, found, book, backend=runner_backend, force=force,
                              progress=lambda sub, outcome: bar.update(1))
    click.echo(summary.render())


@main.command()
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "canvas"]), default="table",
              show_default=True, help="canvas: a CSV that Canvas's gradebook import accepts.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of the terminal.")
@click.option("--db", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The SQLite gradebook (default: the course's).")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.pass_context
@_handle_errors
def gradebook(ctx, fmt, output, db, debug) -> None:
    """The programming-assignment component of the course grade, per student.

    For every student and assignment: the raw score, lateness and its penalty, the
    weighted contribution, and the total out of the component's weight (30). Late
    policy, weights, extensions and drop-lowest come from [grading] in course.toml.
    """
    from autograder.gradebook.export import load_roster, render_canvas, render_csv, render_table
    from autograder.gradebook.policy import course_grades

    course = _course(ctx)
    roster = load_roster(course.roster_path)
    with _open_gradebook(course, db) as book:
        cg = course_grades(course, book, list(roster))
    if fmt == "table":
        text = render_table(cg.grades, cg.assignments, cg.component) + "\n"
    elif fmt == "csv":
        text = render_csv(cg.grades, cg.component)
    else:
        text = render_canvas(cg.grades, cg.assignments, cg.titles, cg.max_scores, cg.component,
                             roster)
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(text, nl=False)


def _open_gradebook(course, db: Path | None):
    from autograder.gradebook.store import Gradebook

    path = db or course.gradebook_path
    if not path.is_file():
        raise UsageError(f"no gradebook at {path}: run `dlgrade grade-batch` first")
    return Gradebook(path)


@main.command()
@click.argument("assignment", required=False)
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("feedback"), show_default=True, help="Folder for the feedback files.")
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md",
              show_default=True)
@click.option("--db", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The SQLite gradebook (default: the course's).")
@click.option("--staff", is_flag=True,
              help="Staff copies: also say which sandbox protections were in force.")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.pass_context
@_handle_errors
def feedback(ctx, assignment, out_dir, fmt, db, staff, debug) -> None:
    """Write one feedback file per student and assignment: every test's result, the
    hints from the tests' docstrings, the late penalty. Hidden tests show pass or fail only."""
    from autograder.gradebook.export import load_roster
    from autograder.gradebook.policy import course_grades
    from autograder.report.feedback import feedback_markdown, write_feedback

    course = _course(ctx)
    roster = load_roster(course.roster_path)
    with _open_gradebook(course, db) as book:
        cg = course_grades(course, book, list(roster))
        rows = {(r.student, r.assignment): r for r in book.latest()}
    idents = [course.assignment(assignment).id] if assignment else cg.assignments
    count = 0
    for grade in cg.grades:
        for ident in idents:
            entry = grade.assignments.get(ident)
            if entry is None:
                continue
            row = rows.get((grade.student, ident))
            text = feedback_markdown(grade.student, cg.titles.get(ident, ident), ident, entry,
                                     row.results if row else None, row.error if row else None,
                                     staff=staff)
            write_feedback(out_dir, grade.student, ident, text, fmt, cg.titles.get(ident, ident))
            count += 1
    click.echo(f"wrote {count} feedback file(s) under {out_dir}")


@main.command()
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="Where to write the report page.")
@click.option("--similarity-csv", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the similarity flags as CSV.")
@click.option("--threshold", type=click.FloatRange(0, 1), default=0.8, show_default=True,
              help="Flag pairs sharing at least this fraction of code fingerprints.")
@click.option("--db", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The SQLite gradebook (default: the course's).")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.pass_context
@_handle_errors
def report(ctx, html_path, similarity_csv, threshold, db, debug) -> None:
    """A static HTML report of the class: score histograms, the pass rate of every test,
    grading times, lateness, and pairs of submissions with nearly identical code."""
    import csv

    from autograder.gradebook.export import load_roster
    from autograder.gradebook.policy import course_grades
    from autograder.report.html import render_report
    from autograder.report.similarity import assignment_sources, similar_pairs

    course = _course(ctx)
    roster = load_roster(course.roster_path)
    with _open_gradebook(course, db) as book:
        cg = course_grades(course, book, list(roster))
        rows = book.latest()
    flags = {}
    for ident in cg.assignments:
        a = course.assignment(ident)
        starter = "\n".join(
            (a.starter_dir / m).read_text(encoding="utf-8") for m in sorted(a.modules)
            if a.starter_dir and (a.starter_dir / m).is_file())
        sources = assignment_sources([r for r in rows if r.assignment == ident], list(a.modules))
        flags[ident] = similar_pairs(sources, starter, threshold)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(render_report(course.name, cg, rows, flags, threshold), encoding="utf-8")
    click.echo(f"wrote {html_path}")
    if similarity_csv:
        similarity_csv.parent.mkdir(parents=True, exist_ok=True)
        with open(similarity_csv, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["assignment", "student_a", "student_b", "similarity", "shared"])
            for ident, pairs in flags.items():
                for p in pairs:
                    writer.writerow([ident, p.student_a, p.student_b, p.similarity, p.shared])
        click.echo(f"wrote {similarity_csv}")
    flagged = sum(len(p) for p in flags.values())
    click.echo(f"{flagged} pair(s) flagged as similar (threshold {threshold:.0%})")


@main.command()
@click.option("--show", is_flag=True, help="Print the secret itself (for $DLGRADE_SECRET in the "
                                           "course staff's CI); never give it to students.")
@click.pass_context
@_handle_errors
def secret(ctx, show) -> None:
    """The course secret that hidden tests' inputs derive from: create it if there is none,
    then say where it is and its fingerprint. $DLGRADE_SECRET replaces it."""
    from autograder.secret import describe_course_secret

    click.echo(describe_course_secret(_course(ctx).assignments_dir, show))


@main.command()
@click.argument("assignment", required=False)
@click.option("--all", "all_", is_flag=True, help="Validate every assignment.")
@click.option("--secrets", type=click.IntRange(0, 100), default=0, show_default=True,
              help="Also grade the reference's hidden tests under N random course secrets "
                   "(their inputs derive from the secret); any test failing under one fails.")
@_worker_option
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.pass_context
@_handle_errors
def validate(ctx, assignment, all_, secrets, debug) -> None:
    """Prove an assignment is sound: reference full marks, starter zero, deterministic,
    points matching assignment.toml. Exit status 1 if any check fails."""
    from autograder.validate import validate_assignment

    course = _course(ctx)
    if bool(assignment) == all_:
        raise UsageError("give one ASSIGNMENT or --all")
    targets = course.assignments() if all_ else [course.assignment(assignment)]
    _course_secret(course)
    ok = True
    for a in targets:
        report = validate_assignment(a, secrets=secrets)
        click.echo(report.render())
        ok = ok and report.ok
    if not ok:
        sys.exit(EXIT_CHECK_FAILED)


if __name__ == "__main__":
    main()
