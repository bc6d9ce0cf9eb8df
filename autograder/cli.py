"""The ``dlgrade`` command line: each command's body is a call into the package that does
the work, and each command's ``--help`` is its manual.

A platform exception ends a command with one line on stderr and the exit code the exception
carries (the table is in ``autograder.errors``); ``dlgrade --debug`` adds the traceback.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import click

import autograder
from autograder.errors import EXIT_INTERNAL, CheckFailed, DlgradeError, UsageError
from autograder.results import FORMATS


def report_error(exc: Exception, debug: bool = False) -> int:
    """Say on stderr what went wrong, in one line; return the exit code.

    A platform exception carries its ``label`` and ``exit_code``; any other exception is a
    bug (exit 3), shown with its type, and the traceback is offered through ``--debug``.
    """
    from autograder.student_text import clean  # a rejection may quote the submission's files

    expected = isinstance(exc, DlgradeError)
    label = exc.label if expected else "internal error"
    message = str(exc) if expected else f"{type(exc).__name__}: {exc}"
    click.echo(f"dlgrade: {label + ': ' if label else ''}{clean(message)}", err=True)
    if debug:
        traceback.print_exception(exc)
    elif not expected:
        click.echo("(run again as `dlgrade --debug ...` for the traceback)", err=True)
    return exc.exit_code if expected else EXIT_INTERNAL


class _Dlgrade(click.Group):
    """The command group: every command's errors end in ``report_error``."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise  # click's own: --help, usage errors (exit 2), Ctrl-C
        except Exception as exc:
            ctx.exit(report_error(exc, debug=ctx.params.get("debug", False)))


def _course(ctx: click.Context):
    """The course: ``--course`` (or $DLGRADE_COURSE), else the one found from the current
    folder; loaded once per command."""
    from autograder.config import find_course_root, load_course

    if "loaded" not in ctx.obj:
        ctx.obj["loaded"] = load_course(ctx.obj["course"] or find_course_root())
    return ctx.obj["loaded"]


def _course_secret(course) -> None:
    """Official grading draws hidden inputs from the course secret: create it on first need."""
    from autograder.secret import prepare_course_secret

    message = prepare_course_secret(course.assignments_dir)
    if message:
        click.echo(message, err=True)


def _write(path: Path, text: str, what: str) -> None:
    """Write an output file the user asked for (atomically) and say so on stderr."""
    from autograder.output import write_output

    write_output(path, text, what)
    click.echo(f"{what} written to {path}", err=True)


@click.group(cls=_Dlgrade)
@click.version_option(autograder.__version__, prog_name="dlgrade")
@click.option("--course", type=click.Path(file_okay=False, path_type=Path),
              envvar="DLGRADE_COURSE", show_envvar=True,
              help="The course folder (course.toml, assignments/); beats $DLGRADE_COURSE. "
                   "Without either: the nearest folder above the current one with course.toml "
                   "or assignments/.")
@click.option("--debug", is_flag=True,
              help="Show the traceback of any error, for a bug report (dlgrade --debug CMD ...).")
@click.pass_context
def main(ctx: click.Context, course: Path | None, debug: bool) -> None:
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
    Exit codes (every command):
      0  success; check, grade, ci: the submission was graded, whatever its score
      1  a check failed: validate, generate --check, ci --min-score, a leak in a release
      2  usage error: unknown assignment, bad option, rejected submission, invalid
         config, a required protection missing, an output file that cannot be written
      3  internal error: the graders or the platform failed (a bug to report; run
         again with --debug), or the gradebook could not be written (disk full)
    """
    ctx.obj = {"course": course}


@main.command("list")
@click.pass_context
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
def generate(ctx: click.Context, assignment: str | None, check: bool) -> None:
    """Generate starter code from the reference solutions.

    Writes starter/ASSIGNMENT from solutions/ASSIGNMENT (every assignment by
    default). Every `# BEGIN SOLUTION: hint` ... `# END SOLUTION` region becomes a
    stub: the hint as a `# TODO` comment and a `raise NotImplementedError` naming the
    function; the statements after it in its block are dropped (they could not run).
    Everything else is copied.
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
        raise CheckFailed("starter/ is stale: run `dlgrade generate`")


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


def _db_option(func):
    """``--db``, for the commands that read or write the gradebook."""
    return click.option(
        "--db", type=click.Path(dir_okay=False, path_type=Path),
        help="The SQLite gradebook [default: the course's, gradebook.sqlite in the course folder "
             "or course.toml's `gradebook`].")(func)


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


def _run_grade(assignment, paths, include_hidden, isolation, outputs=(), show_table=True,
               metadata=None, require=()):
    """Grade, show the table, write each ``(format, path)`` of ``outputs``; return the result.

    A rejected submission still gets its ``gradescope`` output (score 0, the
    reason): Gradescope must always find a results.json.
    """
    from autograder.errors import SubmissionRejected
    from autograder.grading import ensure_protections, grade_submission, shared_backend
    from autograder.results import rejected_gradescope, render, render_table
    from autograder.sandbox import protections as P

    if isolation == "process":  # start it now: it loads numpy/torch while pytest starts up
        backend = shared_backend(assignment.students_use_torch)
        ensure_protections(backend, require)
        note = P.off_note(backend.protections(), backend.notes(), official=bool(include_hidden))
        if note:
            click.echo(note, err=True)
    try:
        result = grade_submission(assignment, paths if len(paths) > 1 else paths[0],
                                  include_hidden=include_hidden, isolation=isolation,
                                  show_pytest_output=isolation == "none", require=require)
    except SubmissionRejected as exc:
        for fmt, path in outputs:
            if fmt == "gradescope" and path is not None:
                _write(path, rejected_gradescope(assignment, str(exc)),
                       _OUTPUT_NAMES["gradescope"])
        raise
    if show_table:  # shown first: an output path that fails loses nothing
        if isolation == "process":
            click.echo(P.header(backend.kind, result.protections))
        if result.output:  # the student's import errors: cleaned, and never after the table,
            click.echo(result.output)  # whose total line is the last thing printed
        click.echo(render_table(result))
    for fmt, path in outputs:
        text = render(result, fmt, metadata=metadata)
        if path is None:
            click.echo(text, nl=False)
        else:
            _write(path, text, _OUTPUT_NAMES[fmt])
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
@click.pass_context
def check(ctx, assignment, paths, isolation, fmt, output, json_path) -> None:
    """Run the public tests on your work (students).

    PATHS: a folder, a .zip, or .py files; by default the assignment's module
    files in the current folder. Exit status 0 whenever your work was graded.
    """
    a = _course(ctx).assignment(assignment)
    outputs = _outputs(fmt, output, json_path)
    _run_grade(a, _submission_paths(paths, a), False, isolation, outputs,
               show_table=fmt == "table" or output is not None)


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
@click.pass_context
def grade(ctx, assignment, submission, isolation, fmt, output, json_path, public_only,
          submission_metadata) -> None:
    """Grade a submission with the public and hidden tests.

    SUBMISSION: a folder, a .zip, or .py files. Exit status 0 whenever the
    submission was graded, whatever its score.
    """
    from autograder.packaging.gradescope import read_submission_metadata

    course = _course(ctx)
    a = course.assignment(assignment)
    if not public_only:
        _course_secret(course)
    metadata = read_submission_metadata(submission_metadata) if submission_metadata else None
    _run_grade(a, list(submission), not public_only, isolation, _outputs(fmt, output, json_path),
               show_table=fmt == "table" or output is not None, metadata=metadata,
               require=course.grading.require_protections if isolation == "process" else ())


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
@click.pass_context
def ci(ctx, assignment, path, min_score, junit_path, json_path) -> None:
    """Score the public tests in CI: JUnit XML, an exit code.

    PATH: a folder, a .zip or a .py file (default: the assignment's modules in
    the current folder). Where GITHUB_STEP_SUMMARY is set (GitHub Actions), a
    Markdown table of the results is appended to it.

    \b
    Exit status: 0 graded and at or above --min-score; 1 below it;
    2 usage error (e.g. no submission found); 3 internal error.
    """
    from autograder.results import append_step_summary, parse_min_score

    a = _course(ctx).assignment(assignment)
    outputs = [("junit", junit_path)] if junit_path else []
    if json_path:
        outputs.append(("json", json_path))
    paths = [path] if path else _submission_paths((), a)
    result = _run_grade(a, paths, False, "process", outputs)
    warning = append_step_summary(result, title=f"{a.id} (public tests)")
    if warning:
        click.echo(f"dlgrade: warning: {warning}", err=True)
    threshold = parse_min_score(min_score, result.max_score)
    if threshold is not None and result.score < threshold - 1e-9:
        raise CheckFailed(f"score {result.score:g} is below the minimum {threshold:g}")


@main.command()
@click.argument("assignment")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("dist"), show_default=True, help="Folder for the zip.")
@click.option("--requirement", default=None,
              help="What the release's GitHub workflow pip-installs to get dlgrade "
                   "[default: the dlgrade wheel in the release].")
@click.pass_context
def release(ctx, assignment, out_dir, requirement) -> None:
    """Write the student release zip, leak-checked.

    The zip holds the starter code, the public tests, the handout, the
    walkthrough notebook and the CI workflow. Every file is leak-checked first
    (normalised token n-grams against the solution regions and the hidden
    tests); a release with a leak is refused (exit 1) and each leak is listed.
    """
    from autograder.output import writing
    from autograder.packaging.release import build_release

    course = _course(ctx)
    a = course.assignment(assignment)
    with writing("release", out_dir):
        rel = build_release(a, out_dir, course_name=course.name, requirement=requirement)
    click.echo(f"{a.id}: wrote {rel.zip_path} ({len(rel.files)} files, no leaks; public tests "
               f"worth {rel.public_points:g} of {a.total_points:g} points)")


@main.command()
@click.argument("assignment")
@click.option("--format", "fmt", type=click.Choice(["gradescope", "nbgrader", "otter"]),
              required=True, help="gradescope: autograder.zip. nbgrader: a course folder with "
                                  "source/. otter: an otter-assign master notebook, with the "
                                  "dlgrade wheel and the requirements otter's grading image "
                                  "installs.")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("dist"), show_default=True, help="Folder to write into.")
@click.pass_context
def package(ctx, assignment, fmt, out_dir) -> None:
    """Package an assignment for Gradescope, nbgrader or otter.

    \b
    gradescope  OUT/autograder.zip: setup.sh, run_autograder, all tests, dlgrade itself
    nbgrader    OUT/source/ID/ID.ipynb + OUT/nbgrader_config.py (then: nbgrader
                generate_assignment ID; nbgrader autograde ID)
    otter       OUT/ID.ipynb, a master notebook, the wheel and requirements.txt
                (then: otter assign ID.ipynb dist)
    """
    import importlib

    from autograder.output import writing

    course = _course(ctx)
    a = course.assignment(assignment)
    module, function = {"gradescope": ("gradescope", "build_autograder_zip"),
                        "nbgrader": ("nbgrader", "build_course"),
                        "otter": ("otter", "build_master")}[fmt]
    writer = getattr(importlib.import_module(f"autograder.packaging.{module}"), function)
    if fmt == "gradescope":  # the package carries the secret its hidden tests derive from
        _course_secret(course)
    with writing(f"{fmt} package", out_dir):
        written = writer(a, out_dir, course_name=course.name)
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
@_db_option
@click.option("--force", is_flag=True, help="Regrade submissions even when unchanged.")
@click.option("--backend", type=click.Choice(["local", "dask"]), default="local", show_default=True)
@click.option("--scheduler", metavar="ADDRESS",
              help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (with --backend dask).")
@click.option("--times", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="When each submission was made: a CSV with student and submitted_at "
                   "columns (ISO 8601; without an offset, in [grading] timezone), or for "
                   "Moodle's download the assignment's grading worksheet. Without one, "
                   "plain folders are timed by their files' dates, which unzipping resets.")
@_worker_option
@click.pass_context
def grade_batch_cmd(ctx, assignment, submissions, jobs, pin_cpus, db, force, backend,
                    scheduler, times) -> None:
    """Grade a whole class into the gradebook (parallel, resumable).

    SUBMISSIONS is one folder or .zip per student (named by student id), a
    Gradescope "export submissions" folder, Moodle's "download all submissions"
    (in folders), or an nbgrader course folder (submitted/<student>/<assignment>/).
    Unchanged submissions are skipped, so an
    interrupted batch resumes where it stopped; --force regrades everything.
    Every grading is a new row: earlier ones stay as history.
    Exit status 0 when the batch ran, even if some submissions could not be graded.
    """
    from autograder.batch.discover import discover
    from autograder.batch.runner import LocalBackend, grade_batch
    from autograder.batch.times import TIME_FROM_FILES, TIME_SOURCE_NOTE
    from autograder.gradebook.snapshot import gradebook_path
    from autograder.gradebook.store import Gradebook
    from autograder.lms.roster import load_roster

    course = _course(ctx)
    a = course.assignment(assignment)
    _course_secret(course)
    found = discover(submissions, a.id, times=times, roster=load_roster(course.roster_path),
                     zone=course.grading.zone)
    if backend == "dask":
        from autograder.batch.dask_backend import DaskBackend

        if not scheduler:
            raise UsageError("--backend dask needs --scheduler tcp://HOST:PORT")
        runner_backend = DaskBackend(scheduler)
    else:
        runner_backend = LocalBackend(jobs, pin_cpus=pin_cpus)
        from autograder.grading import ensure_protections_here

        ensure_protections_here(course.grading.require_protections)
    db_path = gradebook_path(course, db)
    for note in [f.note for f in found if f.note][:20]:
        click.echo(f"note: {note}", err=True)
    by_files = sum(f.time_source == TIME_FROM_FILES for f in found)
    if by_files:
        click.echo(f"note: {by_files} submission(s) timed by {TIME_SOURCE_NOTE[TIME_FROM_FILES]}"
                   "; give --times for true times", err=True)
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
@click.option("--format", "fmt",
              type=click.Choice(["table", "csv", "canvas", "moodle", "moodle-worksheet"]),
              default="table", show_default=True,
              help="table: for the terminal. csv: one line per student and assignment. "
                   "canvas: Canvas's gradebook import. moodle: Moodle's grade import (CSV). "
                   "moodle-worksheet: an assignment's Moodle grading worksheet with the grades "
                   "filled in (with --worksheet and --assignment).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (atomically) instead of the terminal.")
@click.option("--worksheet", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The grading worksheet Moodle gave for the assignment (moodle-worksheet).")
@click.option("--assignment", "assignment_id", help="The assignment (moodle-worksheet).")
@_db_option
@click.pass_context
def gradebook(ctx, fmt, output, worksheet, assignment_id, db) -> None:
    """Course grades per student: a table, a CSV, or an import for Canvas or Moodle.

    For every student and assignment: the raw score, lateness and its penalty, the
    weighted contribution, and the total out of the component's weight (30). Late
    policy, weights, extensions and drop-lowest come from [grading] in course.toml;
    LMS ids and what missing work becomes, from [lms] (docs/lms.md).
    """
    from autograder.gradebook.export import render_export
    from autograder.gradebook.snapshot import open_course_gradebook
    from autograder.lms.moodle import filled_worksheet

    course = _course(ctx)
    if fmt == "moodle-worksheet":
        if worksheet is None or assignment_id is None:
            raise UsageError("--format moodle-worksheet needs --worksheet FILE and --assignment ID")
        ident = course.assignment(assignment_id).id
        snapshot = open_course_gradebook(course, db)
        if ident not in snapshot.grades.assignments:
            raise UsageError(f"{ident}: no grades for it in the gradebook")
        text, warnings = filled_worksheet(worksheet, snapshot.grades, ident, snapshot.roster,
                                          course.grading.zone)
    else:
        if worksheet is not None or assignment_id is not None:
            raise UsageError("--worksheet and --assignment go with --format moodle-worksheet")
        snapshot = open_course_gradebook(course, db)
        export = render_export(fmt, snapshot.grades, snapshot.roster, course.lms)
        text, warnings = export.text, export.warnings
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    if output:
        _write(output, text, f"gradebook {fmt}")
    else:
        click.echo(text, nl=False)


@main.command()
@click.argument("assignment", required=False)
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("feedback"), show_default=True, help="Folder for the feedback files.")
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md",
              show_default=True)
@_db_option
@click.option("--staff", is_flag=True,
              help="Staff copies: also say which sandbox protections were in force.")
@click.pass_context
def feedback(ctx, assignment, out_dir, fmt, db, staff) -> None:
    """Write a feedback file per student and assignment.

    Each file (OUT/ASSIGNMENT/STUDENT.md or .html) gives every test's result,
    the hints from the tests' docstrings and the late penalty. Hidden tests show
    pass or fail only. ASSIGNMENT: only that one (default: every graded one).
    """
    from autograder.gradebook.snapshot import open_course_gradebook
    from autograder.output import writing
    from autograder.report.feedback import write_class_feedback

    course = _course(ctx)
    snapshot = open_course_gradebook(course, db)
    idents = [course.assignment(assignment).id] if assignment else snapshot.grades.assignments
    with writing("feedback", out_dir):
        count = write_class_feedback(snapshot, idents, out_dir, fmt, staff=staff)
    click.echo(f"wrote {count} feedback file(s) under {out_dir}")


@main.command()
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="Where to write the report page.")
@click.option("--similarity-csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the similarity flags as CSV.")
@click.option("--threshold", type=click.FloatRange(0, 1), default=0.8, show_default=True,
              help="Flag pairs sharing at least this fraction of code fingerprints.")
@_db_option
@click.pass_context
def report(ctx, html_path, csv_path, threshold, db) -> None:
    """Write the class's HTML report, similarity flags included.

    One static page: score histograms, the pass rate of every test, grading
    times, lateness, the protections in force, and pairs of submissions with
    nearly identical code (starter code ignored).
    """
    from autograder.gradebook.snapshot import open_course_gradebook
    from autograder.report.html import render_report
    from autograder.report.similarity import class_similarity, similarity_csv

    course = _course(ctx)
    snapshot = open_course_gradebook(course, db)
    flags = class_similarity(course, snapshot.grades.assignments, snapshot.rows, threshold)
    _write(html_path, render_report(course.name, snapshot.grades, snapshot.rows, flags,
                                    threshold), "report")
    if csv_path:
        _write(csv_path, similarity_csv(flags), "similarity CSV")
    flagged = sum(len(p) for p in flags.values())
    click.echo(f"{flagged} pair(s) flagged as similar (threshold {threshold:.0%})")


@main.command()
@click.option("--show", is_flag=True, help="Print the secret itself (for $DLGRADE_SECRET in the "
                                           "course staff's CI); never give it to students.")
@click.pass_context
def secret(ctx, show) -> None:
    """Create the course secret if needed; say where it is.

    Hidden tests' inputs derive from the course secret. This creates it if there
    is none, then says where it is and its fingerprint. $DLGRADE_SECRET replaces it.
    """
    from autograder.secret import describe_course_secret

    click.echo(describe_course_secret(_course(ctx).assignments_dir, show))


@main.command(short_help="Scaffold a new assignment that validates at once.")
@click.argument("assignment")
@click.option("--topic", "title", metavar="TITLE",
              help="The assignment's title (default: from the id's slug).")
@click.pass_context
def new(ctx, assignment: str, title: str | None) -> None:
    """Scaffold ASSIGNMENT (NN-slug): its config, handout, one public and one hidden test,
    a planted mistake, a reference solution with one marked region and the generated starter.

    \b
    Then:  dlgrade validate ASSIGNMENT          (passes as generated)
           edit solutions/ASSIGNMENT/, the tests and mistakes.toml; see docs/writing-graders.md
    Nothing is written if any of its folders exists.
    """
    from autograder.scaffold import scaffold_assignment

    course = _course(ctx)
    for path in scaffold_assignment(course.root, assignment, topic=title):
        click.echo(f"wrote {_relative(path, course.root)}")
    click.echo(f"next: dlgrade validate {assignment}")


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


@main.command(short_help="Prove an assignment is sound: reference, starter, points.")
@click.argument("assignment", required=False)
@click.option("--all", "all_", is_flag=True, help="Validate every assignment.")
@click.option("--secrets", type=click.IntRange(0, 100), default=0, show_default=True,
              help="Also grade the reference's hidden tests under N random course secrets "
                   "(their inputs derive from the secret); any test failing under one fails.")
@click.option("--quick", is_flag=True,
              help="Skip the planted mistakes (assignments/ID/mistakes.toml) and the trivial "
                   "submissions: the author's edit loop. Without it every mistake must lose "
                   "points in the tests it names, and the starter with its stubs returning "
                   "zeros, their first input or nothing must score at most 3 points.")
@_worker_option
@click.pass_context
def validate(ctx, assignment, all_, secrets, quick) -> None:
    """Prove an assignment is sound: reference full marks, starter zero, deterministic,
    points matching assignment.toml, every planted mistake caught, trivial submissions (zeros,
    identities, no-ops) at most 3 points. Exit status 1 if any check fails."""
    from autograder.validate import validate_assignment

    course = _course(ctx)
    if bool(assignment) == all_:
        raise UsageError("give one ASSIGNMENT or --all")
    targets = course.assignments() if all_ else [course.assignment(assignment)]
    _course_secret(course)
    ok = True
    for a in targets:
        report = validate_assignment(a, secrets=secrets, mistakes=not quick, trivial=not quick)
        click.echo(report.render())
        ok = ok and report.ok
    if not ok:
        raise CheckFailed("validation failed: see the [FAIL] lines above")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (put a reverse proxy with TLS in front: docs/server.md).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--jobs", "-j", default=2, show_default=True, type=click.IntRange(0, 64),
              help="Grading workers on this machine (0: only the web application).")
@click.option("--init", "init_", is_flag=True,
              help="Create the database and an account per roster student, write their "
                   "passwords to server/initial-passwords.csv, and stop.")
@click.option("--pin-cpus/--no-pin-cpus", default=None,
              help="Pin each grading worker (and the sandboxed workers it starts) to one CPU, "
                   "as grade-batch does [default: when --jobs is at least the number of CPUs].")
@click.option("--add-user", metavar="LOGIN", help="Add one account, print its password, stop.")
@click.option("--role", type=click.Choice(["student", "ta", "instructor"]), default="ta",
              show_default=True, help="The role of --add-user's account.")
@click.option("--reset-password", metavar="LOGIN",
              help="Give one account a new password (forgotten), print it, sign it out, stop.")
@click.pass_context
def serve(ctx, host, port, jobs, init_, pin_cpus, add_user, role, reset_password) -> None:
    """Run the course server: students submit and see results; staff run the course.

    Settings (database, upload store, limits) come from [server] in course.toml
    (docs/server.md). Needs the server extra: pip install 'dlgrade[server]'.
    """
    try:
        from autograder.server.admin import add_user as add_account
        from autograder.server.admin import init_server
        from autograder.server.admin import reset_password as reset_account
        from autograder.server.db import make_engine
        from autograder.server.serve import serve as run_server
        from autograder.server.settings import server_settings
    except ImportError as exc:
        raise UsageError(f"the server needs its extra: pip install 'dlgrade[server]' ({exc})") \
            from None
    course = _course(ctx)
    settings = server_settings(course)
    if init_:
        out = course.root / "server" / "initial-passwords.csv"
        made = init_server(course, make_engine(settings.database_url), out)
        click.echo(f"made {made} student account(s); their passwords are in {out}")
        return
    if add_user:
        password = add_account(make_engine(settings.database_url), add_user, role)
        click.echo(f"{add_user} ({role}): password {password}")
        return
    if reset_password:
        password = reset_account(make_engine(settings.database_url), reset_password)
        click.echo(f"{reset_password}: new password {password} (their sessions were ended)")
        return
    _course_secret(course)
    run_server(course, settings, host, port, jobs, pin_cpus)


@main.command()
@click.argument("assignment")
@click.option("--server", envvar="DLGRADE_SERVER", required=True,
              help="The course server's address (or $DLGRADE_SERVER).")
@click.option("--token", envvar="DLGRADE_TOKEN", required=True,
              help="Your personal token from the server's account page (or $DLGRADE_TOKEN).")
@click.option("--wait", default=300.0, show_default=True, type=click.FloatRange(0),
              help="Seconds to wait for the results.")
@click.pass_context
def submit(ctx, assignment, server, token, wait) -> None:
    """Submit your modules for ASSIGNMENT to the course server and show the public results."""
    from autograder.submit import collect_files, render_view
    from autograder.submit import submit as send

    a = _course(ctx).assignment(assignment)
    view = send(server, token, a.id, collect_files(Path.cwd(), a.modules), wait=wait)
    click.echo(render_view(view))


if __name__ == "__main__":
    main()
