"""Every code example of README.md and docs/ runs as written, a page top to bottom in a fresh process.

Each page is one test: its ```python blocks (and the safe ``tbcore`` lines of its ```bash blocks)
run in order in one new interpreter whose working directory is an empty temporary directory.
docs/api/ is generated from the docstrings; only its ``>>>`` examples are run there (as doctests),
not the signature blocks. A page importing a package that is not installed is skipped.
How a page marks a block that cannot run is described in tests/docs_blocks.py.

Afterwards every run the page wrote must load in TensorBoard's own reader, and one of them at
least must hold a tag (if it wrote any, or made a ``SummaryWriter``). Some pages have a check
of their own (PAGE_CHECKS): the points of ``train/loss`` of the first-run pages one by one, the
files that the ``tbcore export`` commands of a page write, the projector files of the embedding page.
"""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys
from collections.abc import Callable

import pytest

from docs_blocks import ROOT, Block, imported_modules, missing_modules, page_blocks, run_page, runnable
from tbcore.reader import list_runs

pytestmark = pytest.mark.core  # in a core-only environment, the pages that need more are skipped

PAGE_TIMEOUT = 120  # seconds for one page; the slowest (graph, with torch, JAX and ONNX) takes a few
HEAVY_IMPORTS = {"torch", "jax"}  # a page importing one of them takes seconds: marked slow


def _page_blocks(path: pathlib.Path) -> list[Block]:
    blocks = page_blocks(path)
    if path.parent.name == "api":  # signatures, not examples: keep the docstrings' >>> examples
        blocks = [b for b in blocks if b.is_doctest]
    return blocks


ALL_PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _pages() -> list[pathlib.Path]:
    """The pages with something to run, except those that build a package (tests/test_docs_tutorial.py)."""
    out = []
    for path in ALL_PAGES:
        blocks = _page_blocks(path)
        if runnable(blocks) and not any(b.marker == "file" for b in blocks):
            out.append(path)
    return out


def _loss_steps(tmp_path: pathlib.Path, run: str) -> list[int]:
    from tbcore.testing import tensorboard_accumulator

    return sorted(event.step for event in tensorboard_accumulator(tmp_path / run).Tensors("train/loss"))


def _quickstart(tmp_path: pathlib.Path) -> None:
    # the loop's 100 steps, the generic add at step 10, the doctest's good call at step 1 (not its bad ones)
    assert _loss_steps(tmp_path, "runs/exp1") == sorted([*range(100), 10, 1])
    assert {"lr_encoder", "lr_decoder"} <= {pathlib.Path(run).name for run in list_runs(tmp_path / "runs")}


def _first_run(tmp_path: pathlib.Path) -> None:
    assert _loss_steps(tmp_path, "runs/exp1") == list(range(100))


def _readme(tmp_path: pathlib.Path) -> None:
    _first_run(tmp_path)
    table = (tmp_path / "loss.csv").read_text().splitlines()  # `tbcore export runs --format csv > loss.csv`
    assert table[0] == "run,tag,step,wall_time,value" and len(table) == 1 + 100


def _shape(text: str) -> list[str]:
    """The lines of a command's output with every number, date and time replaced by N (spacing ignored)."""
    return [" ".join(re.sub(r"\d[\d,.:-]*", "N", line).split()) for line in text.strip().splitlines()]


def _cli(tmp_path: pathlib.Path) -> None:
    shown = next(b.code for b in page_blocks(ROOT / "docs/guide/cli.md") if b.lang == "text")
    done = subprocess.run(
        [sys.executable, "-m", "tbcore", "inspect", "runs"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    printed = _shape(done.stdout)  # the page's sample has a warning more, for a larger run
    assert printed == _shape(shown)[: len(printed)], (done.stdout, shown)
    assert len((tmp_path / "scalars.csv").read_text().splitlines()) == 1 + 100
    assert (tmp_path / "scalars.parquet").stat().st_size > 0
    assert sorted(p.name for p in (tmp_path / "exported").iterdir()) == ["histograms.json", "scalars.json"]


def _distributed(tmp_path: pathlib.Path) -> None:
    from tbcore.testing import tensorboard_accumulator

    assert sorted(list_runs(tmp_path / "runs")) == ["exp1", "exp1/rank0"]  # as the page's comment shows
    assert tensorboard_accumulator(tmp_path / "runs/exp1/rank0").Tags()["tensors"] == ["throughput"]


def _embedding(tmp_path: pathlib.Path) -> None:
    config = (tmp_path / "runs/embedding/projector_config.pbtxt").read_text()
    assert config.count("embeddings {") == 2 and 'tensor_name: "val_features:00001"' in config
    assert len((tmp_path / "runs/embedding/00001/val_features/tensors.tsv").read_text().splitlines()) == 100


#: what a page must have written, beyond runs that TensorBoard loads
PAGE_CHECKS: dict[str, Callable[[pathlib.Path], None]] = {
    "README.md": _readme,
    "docs/guide/cli.md": _cli,
    "docs/index.md": _first_run,
    "docs/guide/quickstart.md": _quickstart,
    "docs/distributed.md": _distributed,
    "docs/types/embedding.md": _embedding,
}

PAGES = _pages()


def _param(path: pathlib.Path) -> object:
    slow = HEAVY_IMPORTS & imported_modules(_page_blocks(path))
    return pytest.param(path, id=str(path.relative_to(ROOT)), marks=[pytest.mark.slow] if slow else [])


@pytest.mark.parametrize("path", [_param(p) for p in PAGES])
def test_page_examples_run(path, tmp_path):
    page = str(path.relative_to(ROOT))
    blocks = _page_blocks(path)
    missing = missing_modules(blocks)
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")
    steps = runnable(blocks)
    run_page(page, steps, tmp_path, PAGE_TIMEOUT)
    pytest.importorskip("tensorboard")
    from tbcore.testing import tensorboard_accumulator

    tags = {run: tensorboard_accumulator(tmp_path / run).Tags() for run in list_runs(tmp_path)}
    if page in PAGE_CHECKS:
        PAGE_CHECKS[page](tmp_path)
    elif tags or any("SummaryWriter(" in str(step["code"]) for step in steps):  # pure encoders write no run
        assert any(any(found.values()) for found in tags.values()), f"{page}: TensorBoard finds nothing: {tags}"


def test_every_marker_is_read_and_every_skip_says_why():
    for path in ALL_PAGES:
        blocks = page_blocks(path)
        marked = [b for b in blocks if b.marker]
        assert len(marked) == path.read_text(encoding="utf-8").count("docs-test:"), f"{path}: a marker is not read"
        assert all(b.argument for b in marked), f"{path}: a docs-test marker without its reason, path or modules"


def test_every_check_names_a_page():
    assert {str(p.relative_to(ROOT)) for p in PAGES} >= set(PAGE_CHECKS)


def test_only_the_tutorial_builds_a_package():
    """A page with ``file`` blocks is left out here: tests/test_docs_tutorial.py runs the tutorial, and no other."""
    building = [path for path in ALL_PAGES if any(b.marker == "file" for b in page_blocks(path))]
    assert building == [ROOT / "docs" / "plugins" / "tutorial.md"]


def _write_page(tmp_path: pathlib.Path, text: str) -> list[dict[str, str | int]]:
    page = tmp_path / "page.md"
    page.write_text(text, encoding="utf-8")
    return runnable(page_blocks(page))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("```python\nx = 1\n```\n\n```python\nassert x == 2, 'later block sees x'\n```\n", "later block sees x"),
        ("```python\n>>> print(1 + 1)\n3\n```\n", "output differs"),
        ("```python\nwith open('f.txt', 'w'): pass\n```\n```bash\ntbcore inspect missing_dir\n```\n", "exited with 1"),
    ],
    ids=["exception", "doctest-output", "command"],
)
def test_runner_reports_a_failing_block(tmp_path, text, message):
    with pytest.raises(AssertionError, match=message):
        run_page("page.md", _write_page(tmp_path, text), tmp_path, PAGE_TIMEOUT)


def test_markers_skip_and_declare(tmp_path):
    steps = _write_page(
        tmp_path,
        "<!-- docs-test: skip (a fragment) -->\n```python\nraise SystemExit(3)\n```\n\n"
        "<!-- docs-test: needs not_a_module_xyz -->\n```python\nx = 1\n```\n"
        "```bash\npip install tbcore  # not run\ntbcore plugins\ntbcore plugins; touch chained  # not run\n```\n",
    )
    assert [step["kind"] for step in steps] == ["python", "command"]
    run_page("page.md", steps, tmp_path, PAGE_TIMEOUT)
    assert missing_modules(page_blocks(tmp_path / "page.md")) == ["not_a_module_xyz"]
    assert not (tmp_path / "chained").exists()
