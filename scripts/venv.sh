# Sourced by scripts/test.sh, scripts/demo.sh and .ci/run: make_venv DIR [--system-site-packages]
# creates a virtual environment in DIR unless one is there, on a machine with only python3 and pip
# (Debian/Ubuntu may ship python3 without ensurepip: then virtualenv from PyPI is used).
make_venv() {
  local dir=$1; shift
  if [ -x "$dir/bin/python" ]; then return 0; fi
  if ! "${PYTHON:-python3}" -m venv "$@" "$dir" 2>/dev/null; then
    rm -rf "$dir"
    "${PYTHON:-python3}" -m pip install -q --user virtualenv
    "${PYTHON:-python3}" -m virtualenv -q "$@" "$dir"
  fi
  "$dir/bin/python" -m pip install -q --upgrade pip
}
