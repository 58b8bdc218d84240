"""A plugin author who follows docs/plugins/tutorial.md alone gets a working, installable plugin.

The page's blocks marked ``<!-- docs-test: file PATH -->`` are the package's files. They are
written into an empty directory, pip-installed into a new virtual environment (which sees the
system's site-packages and gets tbcore from this worktree), and then the page's own usage block
(and the example package's README) and the page's own tests run in that environment; what they
write is read back with TensorBoard's reader.
The page's pyproject.toml and module are also checked to be those of examples/tbcore-boxes.
"""

from __future__ import annotations

import pathlib
import re
import site
import subprocess
import sys

import pytest

from docs_blocks import ROOT, Block, page_blocks, run_page, runnable, tbcore_commands

PAGE = ROOT / "docs" / "plugins" / "tutorial.md"
EXAMPLE = ROOT / "examples" / "tbcore-boxes"
CODE_FILES = ("pyproject.toml", "src/tbcore_boxes/__init__.py")  # the example's, verbatim


def _package_files() -> dict[str, str]:
    """``{path: text}`` of the files the page builds, each the page's blocks for it joined in order."""
    parts: dict[str, list[str]] = {}
    for block in page_blocks(PAGE):
        if block.marker == "file":
            parts.setdefault(block.argument, []).append(block.code)
    return {path: "\n\n".join(codes) for path, codes in parts.items()}


def _run(command: list[str], cwd: pathlib.Path, timeout: float = 300) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _listing_claim(blocks: list[Block]) -> tuple[str, str]:
    """The page's ``tbcore plugins`` command and the line its comment says the command lists."""
    for block in blocks:
        for command in tbcore_commands(block) if block.lang == "bash" else []:
            line = next(line for line in block.code.splitlines() if line.startswith(command))
            return command, line.split("# lists:")[1]
    raise AssertionError(f"{PAGE} has no tbcore command with a '# lists:' comment")


def _environment(venv: pathlib.Path) -> str:
    """Make a virtual environment that sees the packages of this one (none of its own); return its python.

    ``--system-site-packages`` shows the base interpreter's packages; when the tests run in a
    virtual environment themselves (scripts/test.sh), a ``.pth`` file adds that one's too, after
    the new environment's own site-packages, so what is installed into the new one wins.
    """
    _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], venv.parent)
    python = str(venv / "bin" / "python")
    if sys.prefix != sys.base_prefix:
        own = _run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], venv.parent).strip()
        pathlib.Path(own, "tests-environment.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return python


def _has_setuptools(python: str) -> bool:
    """Whether ``python`` imports a setuptools that builds both packages (their pyproject.toml ask >= 68)."""
    check = "import setuptools, sys; sys.exit(int(setuptools.__version__.split('.')[0]) < 68)"
    return subprocess.run([python, "-c", check], capture_output=True, timeout=60).returncode == 0


@pytest.mark.core
def test_tutorial_files_are_the_example_package():
    files = _package_files()
    assert sorted(files) == sorted([*CODE_FILES, "tests/test_boxes.py"])
    for path in CODE_FILES:
        assert files[path] == (EXAMPLE / path).read_text(encoding="utf-8"), f"{path} differs from {EXAMPLE / path}"


@pytest.mark.slow
def test_tutorial_builds_a_working_plugin(tmp_path):
    pytest.importorskip("tensorboard")
    package = tmp_path / "tbcore-boxes"
    for path, text in _package_files().items():
        (package / path).parent.mkdir(parents=True, exist_ok=True)
        (package / path).write_text(text, encoding="utf-8")
    python = _environment(tmp_path / "venv")
    install = [python, "-m", "pip", "install", "-q", "--no-deps"]
    if _has_setuptools(python):  # build offline with it; else pip builds in isolation, setuptools from PyPI
        install += ["--no-build-isolation", "--no-index"]
    _run([*install, "-e", str(ROOT)], tmp_path)
    _run([*install, str(package)], tmp_path)  # a real (not editable) install: the entry point from the wheel

    blocks = page_blocks(PAGE)
    command, listed = _listing_claim(blocks)
    plugins = _run([python, "-m", "tbcore", *command.split()[1:]], tmp_path)
    assert listed.split() in [line.split() for line in plugins.splitlines()], plugins

    use = tmp_path / "use"
    use.mkdir()
    run_page(str(PAGE.relative_to(ROOT)), runnable(blocks), use, 120, python=python)
    from tbcore.testing import tensorboard_accumulator

    acc = tensorboard_accumulator(use / "runs" / "det")
    assert acc.summary_metadata["val/detections"].plugin_data.plugin_name == "images"
    assert [e.step for e in acc.Tensors("val/detections")] == [3, 4]
    readme = EXAMPLE / "README.md"  # the example package's own usage example, in the same environment
    run_page(str(readme.relative_to(ROOT)), runnable(page_blocks(readme)), use, 120, python=python)
    assert [e.step for e in tensorboard_accumulator(use / "runs" / "boxes").Tensors("val/detections")] == [3]

    tests = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], package)
    assert re.search(r"\b\d+ passed in\b", tests) and "skipped" not in tests, tests
