"""Every code example of README.md and docs/ runs as written, a page top to bottom in a fresh process.

Each page is one test: its ```python blocks (and the safe ``tbcore`` lines of its ```bash blocks)
run in order in one new interpreter whose working directory is an empty temporary directory.
docs/api/ is generated from the docstrings; only its ``>>>`` examples are run there (as doctests),
not the signature blocks. A page importing a package that is not installed is skipped.
How a page marks a block that cannot run is described in tests/docs_blocks.py.
"""

from __future__ import annotations

import pathlib

import pytest
from docs_blocks import ROOT, Block, missing_modules, page_blocks, run_page, runnable

PAGE_TIMEOUT = 120  # seconds for one page; the slowest (graph, with torch and JAX) takes a few


def _page_blocks(path: pathlib.Path) -> list[Block]:
    blocks = page_blocks(path)
    if path.parent.name == "api":  # signatures, not examples: keep the docstrings' >>> examples
        blocks = [b for b in blocks if b.is_doctest]
    return blocks


def _pages() -> list[pathlib.Path]:
    """The pages with something to run, except those that build a package (tests/test_docs_tutorial.py)."""
    out = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        blocks = _page_blocks(path)
        if runnable(blocks) and not any(b.marker == "file" for b in blocks):
            out.append(path)
    return out


PAGES = _pages()


@pytest.mark.parametrize("path", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_page_examples_run(path, tmp_path):
    blocks = _page_blocks(path)
    missing = missing_modules(blocks)
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")
    run_page(str(path.relative_to(ROOT)), runnable(blocks), tmp_path, PAGE_TIMEOUT)
