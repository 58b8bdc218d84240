"""Users get precise types: tests/typed_usage.py passes ``mypy --strict`` and runs.

The script pins the types of the public API with ``assert_type``; a second, small script
checks that the check has teeth (a wrong expectation fails), and that the reader's default
result is honestly "DataFrame or dict" rather than one of them.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.core

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "typed_usage.py"

WRONG = """\
from __future__ import annotations

import numpy as np
from typing_extensions import assert_type

from tbcore import reader, summary

assert_type(reader.scalars("runs"), dict[str, np.ndarray])
assert_type(summary.scalar("loss", 1.0), bytes)
"""


@pytest.mark.slow
def test_user_script_passes_mypy_strict(tmp_path):
    pytest.importorskip("mypy")
    shutil.copy(SCRIPT, tmp_path / "typed_usage.py")
    (tmp_path / "wrong_types.py").write_text(WRONG, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), "typed_usage.py"]
        + ["wrong_types.py"],
        cwd=tmp_path,  # no project config: a user's own mypy settings
        capture_output=True,
        text=True,
        timeout=300,
    )
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert not [line for line in errors if line.startswith("typed_usage.py")], done.stdout
    wrong = [line for line in errors if line.startswith("wrong_types.py")]
    assert len(wrong) == 2, done.stdout
    assert 'is of type "DataFrame | dict[str' in wrong[0] or 'is of type "Any | dict[str' in wrong[0], wrong[0]
    assert 'is of type "Summary", not "bytes"' in wrong[1], wrong[1]


def test_user_script_runs(tmp_path):
    pytest.importorskip("typing_extensions")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "runs")], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
