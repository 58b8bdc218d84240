"""End to end: the demo run, served by a real TensorBoard, rendered by headless Chromium.

Needs Debian's ``chromium`` (``apt-get install chromium``) and the ``playwright`` Python
package pointed at it (no browser download). Screenshots are kept under
``artifacts/browser/`` (or ``$TBCORE_ARTIFACTS``); their paths are printed.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import time

import pytest

from tbcore.demo import run_demo
from tbcore.testing import TensorBoardServer

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = pathlib.Path(os.environ.get("TBCORE_ARTIFACTS", pathlib.Path(__file__).parents[1] / "artifacts"))
ARTIFACTS /= "browser"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo run and what it wrote, for every test of this module."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium is not installed (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api")
    logdir = tmp_path_factory.mktemp("browser") / "demo"
    return str(logdir), run_demo(str(logdir))


@pytest.fixture(scope="module", params=["false", "true"], ids=["python-loader", "rust-loader"])
def page(request, demo):
    """A Chromium page next to a TensorBoard serving the demo run (both of TensorBoard's loaders)."""
    from playwright.sync_api import sync_playwright

    logdir, _ = demo
    with TensorBoardServer(logdir, load_fast=request.param) as server:
        server.wait_for("/data/plugin/scalars/tags", lambda tags: "train/loss" in tags.get(".", {}))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
            try:
                view = browser.new_page(viewport={"width": 1400, "height": 1000})
                view.base_url = server.url  # type: ignore[attr-defined]
                view.loader = request.param  # type: ignore[attr-defined]
                yield view
            finally:
                browser.close()


def _open(view, dashboard: str) -> None:
    view.goto(f"{view.base_url}/#{dashboard}", wait_until="networkidle")


def _screenshot(view, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}-{view.loader}.png"
    view.screenshot(path=str(path), full_page=False)
    print(f"screenshot: {path}")


def _needs(demo, kind: str) -> None:
    if demo[1].get(kind) != "written":
        pytest.skip(f"the demo did not write {kind!r} here ({demo[1].get(kind, 'type not installed')})")


def _poll(view, selector: str, script: str, accept, timeout: float = 60.0):
    """Evaluate ``script`` on every element matching ``selector`` (shadow DOM included) until ``accept``."""
    deadline = time.monotonic() + timeout
    while True:
        found = view.eval_on_selector_all(selector, script)
        if accept(found) or time.monotonic() > deadline:
            return found
        view.wait_for_timeout(500)


def test_scalars_chart_renders(page):
    _open(page, "scalars")
    page.locator("tf-tag-filterer paper-input input").first.fill("train/loss")  # shows the chart whatever the layout
    page.get_by_text("train/loss").last.wait_for(timeout=60_000)
    # plotted lines are SVG paths with real geometry
    script = "els => els.map(e => (e.getAttribute('d') || '').length)"
    lengths = _poll(page, "vz-line-chart2 path.line", script, lambda found: max(found, default=0) > 50)
    assert max(lengths, default=0) > 50, lengths
    _screenshot(page, "scalars")


def test_image_renders(page, demo):
    _needs(demo, "image")
    _open(page, "images")
    script = "els => els.filter(e => e.src.includes('individualImage') && e.complete).map(e => e.naturalWidth)"
    sizes = _poll(page, "img", script, lambda found: 64 in found)
    assert 64 in sizes, sizes  # the demo's 64x64 image (add_image), decoded by the browser
    _screenshot(page, "images")


def test_audio_player_renders(page, demo):
    _needs(demo, "audio")
    _open(page, "audio")
    script = "els => els.filter(a => a.controls && a.src.includes('individualAudio')).map(a => a.duration || 0)"
    durations = _poll(page, "audio", script, lambda found: any(d > 0.9 for d in found))
    assert any(d > 0.9 for d in durations), durations  # the demo's 1 s tone, loaded and playable
    assert page.locator("audio").first.is_visible()
    _screenshot(page, "audio")
