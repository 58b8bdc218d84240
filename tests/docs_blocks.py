"""The code blocks of the documentation pages, and a runner that executes a page's blocks in order.

A page is run the way a reader follows it: every ```python block, top to bottom, in one
interpreter (later blocks use names of earlier ones), and the ``tbcore ...`` lines of its ```bash
blocks at their place. An HTML comment on the line before a block changes what happens to it:

- ``<!-- docs-test: skip (reason) -->``: the block is not run (a fragment, a user's own model...);
- ``<!-- docs-test: file PATH -->``: the block is (a part of) the file PATH of a package the page
  builds (the blocks of one PATH are joined in order); such pages are assembled and
  pip-installed by tests/test_docs_tutorial.py;
- ``<!-- docs-test: needs pandas, matplotlib -->``: the block runs, and needs these modules although
  it does not import them (the page is skipped without them, as for the modules its blocks import).

A block whose lines start with ``>>>`` is run as a doctest: its printed output is checked.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import json
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]

_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
_MARKER = re.compile(r"<!--\s*docs-test:\s*(skip|file|needs)\s+(.*?)\s*-->\s*\Z")
#: ``tbcore`` subcommands a bash block may run: they only read a log directory or list plugins
SAFE_COMMANDS = frozenset({"inspect", "export", "plugins"})


@dataclasses.dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    lang: str
    code: str
    line: int  # line number of the opening fence, 1-based
    marker: str = ""  # "skip", "file" or "needs", from a docs-test comment right before the block
    argument: str = ""  # the marker's reason, file path or module names

    @property
    def is_doctest(self) -> bool:
        """Whether the block is written as an interactive session (``>>>`` prompts)."""
        return self.code.lstrip().startswith(">>>")


def page_blocks(path: pathlib.Path) -> list[Block]:
    """Return every fenced block of the markdown page ``path``, with its docs-test marker."""
    text = path.read_text(encoding="utf-8")
    out = []
    for match in _FENCE.finditer(text):
        before = text[: match.start()].rstrip()
        marker = _MARKER.search(before.rsplit("\n", 1)[-1])
        out.append(
            Block(
                lang=match.group(1),
                code=match.group(2),
                line=text.count("\n", 0, match.start()) + 1,
                marker=marker.group(1) if marker else "",
                argument=marker.group(2).strip("()") if marker else "",
            )
        )
    return out


def tbcore_commands(block: Block) -> list[str]:
    """Return the ``tbcore <safe subcommand> ...`` lines of a bash block (comments removed).

    A line that chains, pipes or substitutes (``;``, ``&``, ``|``, backquotes, ``$``) is left out:
    only one command, with at most an output redirection, is run.
    """
    commands = []
    for raw in block.code.splitlines():
        line = re.sub(r"\s+#.*$", "", raw).strip()
        words = line.split()
        if len(words) >= 2 and words[0] == "tbcore" and words[1] in SAFE_COMMANDS and not re.search(r"[;&|`$]", line):
            commands.append(line)
    return commands


def runnable(blocks: list[Block]) -> list[dict[str, str | int]]:
    """Return the steps a page runner executes for ``blocks``: python code, doctests and tbcore commands.

    The ``tbcore`` lines of bash blocks are run only after some python block (which wrote logs).
    """
    steps: list[dict[str, str | int]] = []
    for block in blocks:
        if block.marker in ("skip", "file"):
            continue
        if block.lang == "python":
            steps.append({"kind": "doctest" if block.is_doctest else "python", "code": block.code, "line": block.line})
        elif block.lang == "bash" and steps:  # a command needs the logs that earlier blocks wrote
            for command in tbcore_commands(block):
                steps.append({"kind": "command", "code": command, "line": block.line})
    return steps


def python_source(block: Block) -> str:
    """Return the Python code of a block (the prompts of a doctest block removed, its output dropped)."""
    if not block.is_doctest:
        return block.code
    lines = [line[4:] for line in block.code.splitlines() if line.startswith((">>> ", "... ", ">>>", "..."))]
    return "\n".join(lines) + "\n"


def imported_modules(blocks: list[Block]) -> set[str]:
    """Return the top-level names of the modules the python blocks import."""
    names: set[str] = set()
    for block in blocks:
        if block.lang != "python" or block.marker == "skip":
            continue
        try:
            tree = ast.parse(python_source(block))
        except SyntaxError:
            continue  # reported when the block runs
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return names


def missing_modules(blocks: list[Block]) -> list[str]:
    """Return the modules ``blocks`` import or declare with a ``needs`` marker that are not installed, sorted."""
    needed = imported_modules(blocks)
    needed.update(name.strip() for b in blocks if b.marker == "needs" for name in b.argument.split(","))
    return sorted(name for name in needed if importlib.util.find_spec(name) is None)


# The program run in the page's subprocess: it reads the steps as JSON on stdin.
RUNNER = r"""
import doctest, json, shlex, subprocess, sys
page, steps = json.load(sys.stdin)
namespace = {"__name__": "__main__"}
for step in steps:
    where = f"{page}:{step['line']}"
    print(f"--- {where} ({step['kind']})", flush=True)
    if step["kind"] == "python":
        exec(compile(step["code"], where, "exec"), namespace)
    elif step["kind"] == "doctest":
        test = doctest.DocTestParser().get_doctest(step["code"], namespace, where, page, step["line"])
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        if runner.run(test, clear_globs=False).failed:
            sys.exit(f"{where}: the doctest's output differs (above)")
    else:
        command = step["code"].replace("tbcore", shlex.quote(sys.executable) + " -m tbcore", 1)
        done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=120)
        print(done.stdout + done.stderr, flush=True)
        if done.returncode:
            sys.exit(f"{where}: {step['code']!r} exited with {done.returncode}")
"""


def run_page(
    page: str, steps: list[dict[str, str | int]], cwd: pathlib.Path, timeout: float, python: str = sys.executable
) -> None:
    """Run ``steps`` of ``page`` in a fresh ``python`` in ``cwd``; raise AssertionError with the output on failure."""
    done = subprocess.run(
        [python, "-c", RUNNER],
        input=json.dumps([page, steps]),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{page} failed:\n{done.stdout}\n{done.stderr}"
