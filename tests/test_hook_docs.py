"""docs/plugins/hooks.md and tbcore.hookspecs stay in step; every hook has a test_hook_<name> test."""

from __future__ import annotations

import inspect
import pathlib
import re

import pytest

from tbcore import hookspecs

pytestmark = pytest.mark.core

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "plugins" / "hooks.md"


def _hooks() -> dict[str, object]:
    return {name: f for name, f in vars(hookspecs).items() if name.startswith("tbcore_") and callable(f)}


def _signature(function) -> str:
    """The spec's signature as written in the source (annotations are strings under `from __future__`)."""
    params = [f"{name}: {p.annotation}" for name, p in inspect.signature(function).parameters.items()]
    return f"def {function.__name__}({', '.join(params)}) -> {inspect.signature(function).return_annotation}"


def _page_sections() -> dict[str, str]:
    text = PAGE.read_text(encoding="utf-8")
    return dict(re.findall(r"^## (tbcore_\w+)\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S))


def test_every_function_is_a_hookspec():
    for name, function in _hooks().items():
        assert hasattr(function, f"{hookspecs.PROJECT_NAME}_spec"), f"{name} is not marked @hookspec"


def test_page_lists_exactly_the_hooks():
    assert sorted(_page_sections()) == sorted(_hooks())


@pytest.mark.parametrize("name", sorted(_hooks()))
def test_page_shows_the_exact_signature_and_kind(name):
    function = _hooks()[name]
    section = _page_sections()[name]
    assert f"```python\n{_signature(function)}\n```" in section
    firstresult = getattr(function, f"{hookspecs.PROJECT_NAME}_spec")["firstresult"]
    assert ("firstresult" in section) == firstresult
    assert function.__doc__ and function.__doc__.strip(), f"{name} has no docstring"


@pytest.mark.parametrize("name", sorted(_hooks()))
def test_every_hook_has_a_test(name):
    sources = "".join(path.read_text(encoding="utf-8") for path in (ROOT / "tests").glob("test_*.py"))
    assert re.search(rf"^def test_hook_{name}\(", sources, flags=re.M), f"add a test named test_hook_{name}"
