"""What cleaning hostile student text costs: the figures behind ``autograder.student_text``'s caps.

Run:  .venv/bin/python benchmarks/student_text_cost.py

Prints the median wall time (of 5) of cleaning 16 MiB of control characters to an output cap
and to a reason line, and of reading back an old, uncapped gradebook row holding 400,000
escape sequences. Cleaning looks at no more than 4 x the cap + 64 characters, so the first two
stay near constant in the input's size; asserts nothing.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder import student_text as st  # noqa: E402
from autograder.gradebook.store import Gradebook  # noqa: E402

MIB16 = 16 * 2**20
CONTROLS = "\x01\x02\x07\x1b" * (MIB16 // 4)


def median_ms(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def old_row_book(folder: Path) -> Gradebook:
    """A gradebook with one row written raw, as versions before the caps wrote it."""
    book = Gradebook(folder / "gb.sqlite")
    test = {"name": "t", "score": 0, "max_score": 1, "status": "failed",
            "output": "\x1b[2J" * 100_000}
    results = json.dumps({"score": 0, "max_score": 1, "execution_time": 1.0,
                          "tests": [test] * 4})
    with book.conn:
        book.conn.execute(
            "INSERT INTO results (student, assignment, sha256, graded_at, status, score,"
            " max_score, execution_time, platform_version, assignment_version, error,"
            " results_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            ("old", "90-mini", "h", datetime.now(UTC).isoformat(), "graded", 0, 1, 1.0,
             "0.1", "1.0.0", None, results))
    return book


def main() -> None:
    print(f"clean(16 MiB of control characters, {st.OUTPUT_MAX})     "
          f"{median_ms(lambda: st.clean(CONTROLS, st.OUTPUT_MAX)):8.2f} ms")
    print(f"clean_line(16 MiB of control characters, {st.REASON_MAX}) "
          f"{median_ms(lambda: st.clean_line(CONTROLS, st.REASON_MAX)):8.2f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        book = old_row_book(Path(tmp))
        try:
            ms = median_ms(lambda: book.latest_for("old", "90-mini").results)
        finally:
            book.close()
    print(f"an old uncapped gradebook row read back clean         {ms:8.2f} ms")


if __name__ == "__main__":
    main()
