#!/usr/bin/env bash
# Set up a local virtual environment and run the demo or the test suite.
#   bash dev.sh demo [OUT_DIR]   install agglomera and run the demonstration study
#   bash dev.sh test [PYTEST_ARGS...]   install agglomera with test extras and run every test
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

python_bin() {
  for candidate in "${PYTHON:-}" python3.11 python3; do
    if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1; then
      echo "$candidate"
      return
    fi
  done
  echo "error: Python 3.11 or newer is required (set PYTHON=/path/to/python)" >&2
  exit 2
}

ensure_venv() {
  if [ ! -x .venv/bin/python ]; then
    "$(python_bin)" -m venv .venv
  fi
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
}

task=${1:-}
shift || true
case "$task" in
  demo)
    ensure_venv
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[spatial]'
    .venv/bin/agglomera demo --out "${1:-agglomera-demo}"
    ;;
  test)
    ensure_venv
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev,spark,spatial,dcdh]'
    bash scripts/install-system-deps.sh
    .venv/bin/python -m pytest "$@"
    ;;
  *)
    echo "usage: bash dev.sh demo [OUT_DIR] | bash dev.sh test [PYTEST_ARGS...]" >&2
    exit 2
    ;;
esac
