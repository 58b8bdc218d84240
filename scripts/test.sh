#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine (only python3, pip and gcc needed).
#
# Creates .venv (reusing packages already installed system-wide, e.g. a CPU torch),
# installs tbcore with its test extras (the real tensorboard, torch CPU, JAX CPU, ...)
# and the example plugin examples/tbcore-boxes, installs Debian's chromium for the
# browser test when it is missing and we are root with apt-get, then runs pytest.
# Extra arguments go to pytest: `bash scripts/test.sh -m core -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${TBCORE_VENV:-.venv}

install_chromium() {
  if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then return 0; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
      || echo "test.sh: could not install chromium; the browser test will be skipped" >&2
  fi
}

. scripts/venv.sh

install_chromium
make_venv "$VENV" --system-site-packages
PY="$VENV/bin/python"
"$PY" -m pip install -q -e ".[test]"
"$PY" -m pip install -q ./examples/tbcore-boxes
exec "$PY" -m pytest "$@"
