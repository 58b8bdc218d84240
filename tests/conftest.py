"""Shared fixtures: a fresh log directory, TensorBoard readers and a plugin manager reset."""

from __future__ import annotations

import pathlib

import pytest

from tbcore import plugins


@pytest.fixture
def logdir(tmp_path: pathlib.Path) -> pathlib.Path:
    """A fresh, empty log directory."""
    path = tmp_path / "logs"
    path.mkdir()
    return path


@pytest.fixture
def fresh_plugins():
    """Reload plugins before and after the test, so registrations made in it do not leak."""
    plugins.reset()
    yield plugins
    plugins.reset()


def _snapshot(root: pathlib.Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def rejects(logdir):
    """``rejects(writer, call, error, match)``: ``call()`` raises, writes nothing, and the writer still works after."""
    from tbcore.testing import read_events

    def check(writer, call, error, match):
        writer.flush()
        before = _snapshot(logdir)
        before_tags = [v.tag for e in read_events(logdir) for v in e.summary.value]
        with pytest.raises(error, match=match):
            call()
        writer.flush()
        assert _snapshot(logdir) == before
        writer.add_scalar("after_rejected_call", 1.0, 0)
        writer.flush()
        tags = [v.tag for e in read_events(logdir) for v in e.summary.value]
        assert tags.count("after_rejected_call") == before_tags.count("after_rejected_call") + 1

    return check
