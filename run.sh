#!/usr/bin/env bash
# dlgrade's entry points. Each creates the virtual environment if it is missing.
#
#   ./run.sh demo   set up, validate every assignment, grade the example class into a gradebook,
#                   print it (out of 30), write feedback, a Canvas CSV and the HTML report to out/,
#                   and each assignment's student release and Gradescope package to out/dist/
#   ./run.sh test   set up, then run the platform's test suite (--quick: without the
#                   end-to-end group, the `e2e` marker; any other arguments go to pytest)
#   ./run.sh serve-demo   set up, make the course server's demo in out/serve (the course, the
#                   example class as its roster, a TA and an instructor), print the passwords
#                   and the address, and run `dlgrade serve` until Ctrl-C ($DLGRADE_PORT,
#                   default 8000; docs/server.md)
#
# Environment: PYTHON (default python3, 3.11+), DLGRADE_VENV (default .venv).
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=${DLGRADE_VENV:-.venv}
STAMP="$VENV/.dlgrade-installed"

setup() {
    if [ ! -x "$VENV/bin/python" ]; then
        echo "== creating $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
        echo "== installing dlgrade and its dependencies into $VENV"
        # torch first, pinned, so pip takes the local CPU wheel and never a CUDA build.
        "$VENV/bin/python" -m pip install --quiet "torch==2.13.0"
        "$VENV/bin/python" -m pip install --quiet -e ".[dev]"
        touch "$STAMP"
    fi
}

case "${1:-}" in
    demo)
        setup
        out=${2:-out}
        rm -rf "$out"
        mkdir -p "$out"
        dl="$VENV/bin/dlgrade"
        echo "== validating every assignment"
        "$dl" validate --all
        echo "== building the example class in $out/class"
        "$VENV/bin/python" examples/make_class.py "$out/class"
        for folder in "$out"/class/*/; do
            id=$(basename "$folder")
            echo "== grading the class on $id"
            "$dl" grade-batch "$id" "$folder" --jobs 2 --db "$out/gradebook.sqlite"
        done
        echo "== the gradebook (programming assignments, out of 30)"
        "$dl" gradebook --db "$out/gradebook.sqlite"
        "$dl" gradebook --db "$out/gradebook.sqlite" --format canvas -o "$out/canvas.csv"
        "$dl" feedback --db "$out/gradebook.sqlite" -o "$out/feedback"
        "$dl" report --db "$out/gradebook.sqlite" --html "$out/report.html" \
            --similarity-csv "$out/similarity.csv"
        echo "== student releases (leak-checked) and Gradescope packages in $out/dist"
        for folder in "$out"/class/*/; do
            id=$(basename "$folder")
            "$dl" release "$id" -o "$out/dist"
            "$dl" package "$id" --format gradescope -o "$out/dist/gradescope/$id"
        done
        ;;
    serve-demo)
        setup
        dir=out/serve
        port=${DLGRADE_PORT:-8000}
        dl=("$VENV/bin/dlgrade" --course "$dir")
        rm -rf "$dir"
        mkdir -p "$dir"
        echo "== the course in $dir: due dates moved to the coming weeks, the example class as roster"
        cp -r assignments solutions starter "$dir/"
        rm -f "$dir"/assignments/.dlgrade-secret*  # the demo makes its own
        "$VENV/bin/python" - "$dir" <<'EOF'
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import tomli_w

out = Path(sys.argv[1])
course = tomllib.loads(Path("course.toml").read_text(encoding="utf-8"))
course["name"] += " (server demo)"
course["roster"] = "roster.csv"
first = datetime.now(UTC).replace(hour=23, minute=59, second=0, microsecond=0)
for week, rule in enumerate(course["grading"]["assignments"].values(), start=1):
    rule["due"] = (first + timedelta(weeks=week)).isoformat()
course["server"] = {"submissions_per_day": 10, "max_upload_mb": 5, "requests_per_minute": 120}
(out / "course.toml").write_text(tomli_w.dumps(course), encoding="utf-8")
people = ["ann", "ben", "cat", "dan", "eve", "mallory"]
(out / "roster.csv").write_text("id,name,email,sis_id\n" + "".join(
    f"{p},{p.title()} Example,{p}@uni.example,S{1001 + i}\n" for i, p in enumerate(people)),
    encoding="utf-8")
EOF
        "${dl[@]}" serve --init
        ta=$("${dl[@]}" serve --add-user ta --role ta)
        prof=$("${dl[@]}" serve --add-user prof --role instructor)
        ann=$(grep '^ann,' "$dir/server/initial-passwords.csv" | cut -d, -f3 | tr -d '\r')
        echo "== accounts (every student's password: $dir/server/initial-passwords.csv)"
        echo "   $ta"
        echo "   $prof"
        echo "   ann (student): password $ann"
        echo "== open http://127.0.0.1:$port/login (a student can upload solutions/02-feedforward/*.py);"
        echo "   Ctrl-C stops it; a new serve-demo starts from scratch"
        exec "${dl[@]}" serve --host 127.0.0.1 --port "$port" --jobs 2
        ;;
    test)
        setup
        shift
        if [ "${1:-}" = "--quick" ]; then  # the author's loop: not the end-to-end group
            shift
            set -- -m "not e2e" "$@"
        fi
        "$VENV/bin/ruff" check autograder tests assignments solutions benchmarks examples
        "$VENV/bin/dlgrade" generate --check
        # one test process per CPU; tests/parallel.py says which tests share one
        exec "$VENV/bin/python" -m pytest -q -n auto --dist loadscope "$@"
        ;;
    *)
        sed -n '2,14p' "$0"
        exit 2
        ;;
esac
