"""Print the hostile corpus as a table: case, expected, observed, held, time.

    .venv/bin/python -m tests.hostile [--strict] [--cases ID,ID...] [--no-next]

Runs on whatever worker backend this machine gives (``$DLGRADE_WORKER`` forces one), so it
also runs in the simulated environments of ``tests/envsim.py``. The "held" column says
``yes``, ``no — X, Y off (reported)`` (the case did not hold and the run reported every
protection it relies on off), or ``MISMATCH``. Exit status: 0 when every case held or was
reported off (with ``--strict``: when every case held), 1 otherwise, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from autograder.sandbox.backend import start_backend
from tests.hostile.corpus import CASES, Observed, Verdict, fixture_assignment, judge, run_case

WIDTHS = (28, 9, 50, 70, 60, 8)
HEADERS = ("case", "kind", "expected", "observed", "held", "time")


def _row(cells: tuple[str, ...]) -> str:
    """One line of the table (printed as each case ends, so a slow run shows its progress)."""
    return "| " + " | ".join(c[:w].ljust(w) for c, w in zip(cells, WIDTHS, strict=True)) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.hostile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strict", action="store_true",
                        help="fail unless every case held (root with every capability)")
    parser.add_argument("--cases", help="only these case ids (comma-separated)")
    parser.add_argument("--no-next", action="store_true",
                        help="skip grading an honest submission after each case")
    args = parser.parse_args(argv)
    cases = CASES
    if args.cases:
        wanted = args.cases.split(",")
        unknown = sorted(set(wanted) - {c.id for c in CASES})
        if unknown:
            parser.error(f"unknown case(s): {', '.join(unknown)}")
        cases = [c for c in CASES if c.id in wanted]

    # the backend grading gives the fixture assignment (numpy only: it bans torch)
    backend = start_backend(with_torch=fixture_assignment().students_use_torch)
    in_force = backend.protections()
    print(f"uid {os.getuid()}, worker backend {backend.kind}; protections in force: "
          f"{', '.join(in_force)}")
    for note in getattr(backend, "notes", list)():
        print(f"  off: {note}")
    print(_row(HEADERS))
    print("|" + "|".join("-" * (w + 2) for w in WIDTHS) + "|", flush=True)
    details, verdicts = [], []
    t0 = time.perf_counter()
    try:
        for case in cases:
            with tempfile.TemporaryDirectory() as tmp:
                try:
                    observed = run_case(case, backend, Path(tmp), honest_next=not args.no_next)
                    verdict = judge(case, observed)
                except Exception as exc:  # grading itself broke: report it, go on
                    error = f"{type(exc).__name__}: {exc}"
                    observed = Observed(f"ERROR: {error.splitlines()[0][:100]}", None, 0.0)
                    verdict = Verdict([error[-3000:]], [], False)
            verdicts.append(verdict)
            print(_row((case.id, case.category, case.expected, observed.summary,
                        verdict.label(), f"{observed.seconds:.2f} s")), flush=True)
            if not verdict.held:
                details.append(f"{case.id} ({verdict.label()}; the run reported: "
                               f"{', '.join(observed.protections) or 'nothing'}):")
                details += [f"    {p}" for p in verdict.problems]
    finally:
        backend.close()
    if details:
        print("\nnot held:\n" + "\n".join(details))
    held = sum(v.held for v in verdicts)
    excused = sum(v.excused for v in verdicts)
    mismatched = len(verdicts) - held - excused
    print(f"\n{len(verdicts)} cases: {held} held, {excused} not held with their protections "
          f"reported off, {mismatched} mismatched; {time.perf_counter() - t0:.0f} s in all")
    return 1 if mismatched or (args.strict and excused) else 0


if __name__ == "__main__":
    raise SystemExit(main())
