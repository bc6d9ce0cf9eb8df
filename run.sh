#!/usr/bin/env bash
# dlgrade's two entry points. Each creates the virtual environment if it is missing.
#
#   ./run.sh demo   set up, then validate every assignment and grade the bundled examples
#   ./run.sh test   set up, then run the platform's test suite
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
        mkdir -p "$out"
        echo "== validating every assignment"
        "$VENV/bin/dlgrade" validate --all
        echo "== grading the bundled example submissions (results JSON in $out/)"
        for assignment in starter/*/; do
            id=$(basename "$assignment")
            for kind in solutions starter; do
                printf -- "-- %s/%s: " "$kind" "$id"
                "$VENV/bin/dlgrade" grade "$id" "$kind/$id" --json "$out/$id-$kind.json" | grep "^total:"
            done
            for example in examples/"$id"/*/; do
                [ -d "$example" ] || continue
                echo "-- $example"
                "$VENV/bin/dlgrade" grade "$id" "$example" --json "$out/$id-$(basename "$example").json"
            done
        done
        ;;
    test)
        setup
        shift
        "$VENV/bin/ruff" check autograder tests assignments solutions benchmarks
        "$VENV/bin/dlgrade" generate --check
        exec "$VENV/bin/python" -m pytest -q "$@"
        ;;
    *)
        sed -n '2,8p' "$0"
        exit 2
        ;;
esac
