#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: creates .venv, installs tbcore with its
# test extras (torch CPU, JAX CPU, the real tensorboard), then runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
.venv/bin/python -m pytest "$@"
