#!/usr/bin/env bash
# dlgrade's two entry points. Each creates the virtual environment if it is missing.
#
#   ./run.sh demo   set up, validate every assignment, grade the example class into a gradebook,
#                   print it (out of 30), write feedback, a Canvas CSV and the HTML report to out/,
#                   and each assignment's student release and Gradescope package to out/dist/
#   ./run.sh test   set up, then run the platform's test suite (--quick: without the
#                   end-to-end group, the `e2e` marker; any other arguments go to pytest)
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
        sed -n '2,10p' "$0"
        exit 2
        ;;
esac
