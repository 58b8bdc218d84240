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
