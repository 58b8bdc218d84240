#!/usr/bin/env bash
# Runs the demo on a fresh machine: creates .venv, installs tbcore with its extras and
# tensorboard, writes a run with every summary type into runs/, and reads it back.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
make_venv .venv
.venv/bin/python -m pip install -q -e ".[all]" tensorboard
.venv/bin/python -m tbcore demo "${1:-runs/demo}"
