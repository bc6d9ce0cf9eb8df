"""Print the hostile corpus as a table: case, expected, observed, time.

    .venv/bin/python -m tests.hostile
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from autograder.sandbox.fork_backend import WarmParent
from tests.hostile.corpus import CASES, judge, run_case


def main() -> int:
    parent = WarmParent()
    parent.protections()
    rows, failures = [], 0
    t0 = time.perf_counter()
    for case in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            observed = run_case(case, parent, Path(tmp))
        problems = judge(case, observed)
        failures += bool(problems)
        rows.append((case.id, case.category, case.expected, observed.summary,
                     f"{observed.seconds:.2f} s", "ok" if not problems else "MISMATCH"))
    parent.close()
    headers = ("case", "kind", "expected", "observed", "time", "")
    widths = [min(max(len(str(r[i])) for r in [headers, *rows]), w)
              for i, w in enumerate((30, 9, 60, 80, 8, 8))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        cells = [str(c)[:w].ljust(w) for c, w in zip(row, widths, strict=True)]
        print("| " + " | ".join(cells) + " |")
    print(f"\n{len(CASES)} cases, {failures} mismatch(es), {time.perf_counter() - t0:.0f} s in all")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
