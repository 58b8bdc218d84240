"""Write the API reference pages ``docs/api/*.md`` from the public modules' ``__all__`` and docstrings.

Run from anywhere after changing a public name, signature or docstring:
``python tools/gen_api_docs.py`` (``--check`` only reports pages that are out of date).
tests/test_api_docs.py fails while a committed page differs from what this writes.

Each page lists every name of its module's ``__all__``: classes (constructor and public
methods, inherited ones from tbcore classes included), functions, constants and type
aliases (their source text and ``#:`` comment), each with its exact signature and its
docstring turned from reST fields (``:param x:``, ``:raises E:``, ``:returns:``) into Markdown.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import importlib
import inspect
import pathlib
import re
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "api"
WIDTH = 100  #: signatures longer than this are written one parameter a line

#: the documented modules and their page names (docs/api/<page>.md)
PAGES = {
    "tbcore": "tbcore",
    "tbcore.summary": "summary",
    "tbcore.reader": "reader",
    "tbcore.images": "images",
    "tbcore.graph": "graph",
    "tbcore.testing": "testing",
    "tbcore.cli": "cli",
}
#: names shown first on a page, in this order (the others follow in ``__all__`` order)
FIRST = {"tbcore": ["SummaryWriter", "Writer", "FileWriter"]}
_KINDS = ("Classes", "Functions", "Constants and types", "Modules")
_FIELDS = {"param": "Parameters", "raises": "Raises", "returns": "Returns", "return": "Returns"}


class _Raw(str):
    """An annotation kept as written in the source (``from __future__ import annotations``)."""

    def __repr__(self) -> str:
        return str(self)


def signature(function: Callable[..., Any], *, name: str, prefix: str = "def ") -> str:
    """Return ``def name(params) -> return``, one parameter a line when it is longer than :data:`WIDTH`."""
    sig = inspect.signature(function)
    texts = _parameter_texts([_readable_default(function, p) for p in sig.parameters.values()])
    returns = sig.return_annotation
    result = "" if returns is inspect.Signature.empty or prefix == "class " else f" -> {returns}"
    one_line = f"{prefix}{name}({', '.join(texts)}){result}"
    if len(one_line) <= WIDTH or not texts:
        return one_line
    return f"{prefix}{name}(\n" + "".join(f"    {text},\n" for text in texts) + f"){result}"


def _readable_default(function: Callable[..., Any], param: inspect.Parameter) -> inspect.Parameter:
    """``param`` with a default that reads as Python: a dataclass ``default_factory`` as its call, a class by name."""
    fields = {f.name: f for f in dataclasses.fields(function)} if dataclasses.is_dataclass(function) else {}
    factory = fields[param.name].default_factory if param.name in fields else dataclasses.MISSING
    if factory is not dataclasses.MISSING:
        return param.replace(default=_Raw(f"{getattr(factory, '__name__', factory)}()"))
    if param.default is not param.empty and isinstance(param.default, type):  # not <class ...>
        return param.replace(default=_Raw(param.default.__name__))
    return param


def _parameter_texts(params: list[inspect.Parameter]) -> list[str]:
    """Each parameter as ``str(Signature)`` writes it, with the ``/`` and ``*`` markers between them."""
    texts: list[str] = []
    kinds = [p.kind for p in params]
    for index, param in enumerate(params):
        if isinstance(param.annotation, str):
            param = param.replace(annotation=_Raw(param.annotation))
        if param.kind is param.KEYWORD_ONLY and param.VAR_POSITIONAL not in kinds[:index] and "*" not in texts:
            texts.append("*")
        texts.append(str(param))
        last_positional = param.kind is param.POSITIONAL_ONLY
        if last_positional and (index + 1 == len(params) or kinds[index + 1] is not param.POSITIONAL_ONLY):
            texts.append("/")
    if re.search(r" at 0x[0-9a-f]+>", " ".join(texts)):
        raise ValueError(f"a default of {params} has no stable repr: give it one")
    return texts


def _escape(plain: str) -> str:
    """Text outside code as Markdown shows it: ``<`` is not HTML (``**bold**`` is the same in both)."""
    return plain.replace("&", "&amp;").replace("<", "&lt;")


def _slug(heading: str) -> str:
    """The anchor Python-Markdown's ``toc`` gives a heading (its text, code marks left out)."""
    return re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", heading).strip().lower())


@functools.cache
def _targets() -> dict[str, str]:
    """``{qualified name: "page.md#anchor"}`` of everything documented, for the links of roles (:func:`x`)."""
    found: dict[str, str] = {}
    for module_name, page in PAGES.items():
        module = importlib.import_module(module_name)
        found[module_name] = f"{page}.md"
        for name in module.__all__:
            value = getattr(module, name)
            found[f"{module_name}.{name}"] = f"{page}.md#{_slug(name)}"
            if isinstance(value, types.ModuleType) and value.__name__ in PAGES:
                found[f"{module_name}.{name}"] = f"{PAGES[value.__name__]}.md"
            if isinstance(value, type):
                for member, _, _ in _members(value):
                    found[f"{module_name}.{name}.{member}"] = f"{page}.md#{_slug(f'{name}.{member}')}"
    return found


def _role(target: str, module_name: str) -> str:
    """A role's target as a code span, linked to its section when it is documented."""
    for name in (target, f"{module_name}.{target}", f"tbcore.{target}"):
        if name in _targets():
            return f"[`{target}`]({_targets()[name]})"
    return f"`{target}`"


def _inline(text: str, module_name: str) -> str:
    """reST inline markup to Markdown: literals become code spans, roles links, other text is escaped."""
    out, last = [], 0
    for match in re.finditer(r"``(.+?)``|:[a-z]+:`~?([^`]+)`|`([^`]+)`", text):
        plain = text[last : match.start()]
        out.append(_escape(plain))
        literal, role, interpreted = match.groups()
        out.append(_role(role, module_name) if role else f"`{literal or interpreted}`")
        last = match.end()
    tail = text[last:]
    out.append(_escape(tail))
    return "".join(out)


def _fence(lines: list[str]) -> list[str]:
    return ["", "```python", *lines, "```", ""]


def markdown(doc: str, module_name: str = "tbcore") -> str:
    """Turn a docstring (``inspect.getdoc`` form) into Markdown; its reST fields become lists at the end.

    Roles (:func:`x`) link to the section of ``x``, looked up as written, then in ``module_name``.
    """
    lines = doc.splitlines()
    out: list[str] = []
    fields: dict[str, list[str]] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        field = re.match(r"^:(param|raises|returns?)\s*([^:]*):\s*(.*)$", line)
        if field:
            kind, subject, text = field.groups()
            index += 1
            while index < len(lines) and lines[index].startswith(" "):
                text += " " + lines[index].strip()
                index += 1
            subject = f"`{subject.strip()}`: " if subject.strip() else ""
            item = f"- {subject}{_inline(text, module_name)}"
            fields.setdefault(_FIELDS[kind], []).append(item)
            continue
        if line.startswith(">>>"):
            block = []
            while index < len(lines) and lines[index].startswith((">>>", "...")):
                block.append(lines[index])
                index += 1
            out += _fence(block)
            continue
        if line.rstrip().endswith("::"):
            out.append(_inline(line.rstrip()[:-1], module_name))
            index += 1
            block = []
            while index < len(lines) and (not lines[index].strip() or lines[index].startswith(" ")):
                block.append(lines[index])
                index += 1
            while block and not block[-1].strip():
                block.pop()
            out += _fence(inspect.cleandoc("\n".join(block)).splitlines())
            continue
        out.append(_inline(line.strip(), module_name))
        index += 1
    for title in ("Parameters", "Returns", "Raises"):
        if title in fields:
            out += ["", f"**{title}:**", "", *fields[title]]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def own_doc(obj: object) -> str | None:
    """``obj``'s docstring, not one inherited from a base class nor the one ``dataclass`` makes up."""
    if not isinstance(obj, type):
        return inspect.getdoc(obj)
    doc = vars(obj).get("__doc__")
    made_up = dataclasses.is_dataclass(obj) and isinstance(doc, str) and doc.startswith(f"{obj.__name__}(")
    return None if made_up or not isinstance(doc, str) else inspect.cleandoc(doc)


def _doc(obj: object, qualname: str, module_name: str) -> str:
    doc = own_doc(obj)
    if not doc or not doc.strip():
        raise ValueError(f"{qualname} has no docstring: every public function, class and method needs one")
    return markdown(doc, module_name)


def _code(text: str) -> str:
    return f"```python\n{text}\n```"


def _own_init(cls: type) -> bool:
    """True if a Python class of ``cls``'s MRO defines ``__init__`` (exceptions keep the built-in one)."""
    return any(isinstance(vars(base).get("__init__"), types.FunctionType) for base in cls.__mro__[:-1])


def _members(cls: type) -> Iterator[tuple[str, object, type]]:
    """Public methods and properties of ``cls`` and its tbcore bases, own first: ``(name, member, owner)``."""
    seen: set[str] = set()
    for owner in cls.__mro__:
        if not owner.__module__.startswith("tbcore") or owner.__module__.startswith("tbcore.proto"):
            continue
        for name, member in vars(owner).items():
            if name.startswith("_") or name in seen:
                continue
            if isinstance(member, (types.FunctionType, property, staticmethod, classmethod)):
                seen.add(name)
                yield name, member, owner


def _shown_base(base: type) -> bool:
    """True for a base class worth naming: one outside tbcore, or one documented on a page.

    An undocumented tbcore base (e.g. ``LearnedScalars`` of ``Writer``) is a part of its
    subclass kept in another module; its public members, if any, are listed as the subclass's.
    """
    if base is object:
        return False
    if not base.__module__.startswith("tbcore"):
        return True
    modules = [importlib.import_module(module_name) for module_name in PAGES]
    return any(base.__name__ in module.__all__ and getattr(module, base.__name__) is base for module in modules)


def _class_section(name: str, cls: type, module_name: str) -> list[str]:
    bases = [base.__name__ for base in cls.__bases__ if _shown_base(base)]
    head = signature(cls, name=name, prefix="class ") if _own_init(cls) else f"class {name}"
    out = [f"### `{name}`", "", _code(head), ""]
    if bases:
        out += ["Bases: " + ", ".join(f"`{base}`" for base in bases), ""]
    out += [_doc(cls, name, module_name), ""]
    for member_name, member, owner in _members(cls):
        qualname = f"{name}.{member_name}"
        out += [f"#### `{qualname}`", ""]
        if isinstance(member, property):
            returns = inspect.signature(member.fget).return_annotation if member.fget else "Any"
            out += [_code(f"property {member_name}: {returns}"), ""]
            target: object = member
        else:
            function = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
            out += [_code(signature(function, name=member_name)), ""]
            target = function
        if owner is not cls:
            out += [f"*Inherited from `{owner.__name__}`.*", ""]
        out += [_doc(target, qualname, module_name), ""]
    return out


def _assignment(name: str, value: object, module: types.ModuleType) -> tuple[str, str]:
    """Return the source of the module-level assignment of ``name`` and its ``#:`` comment."""
    candidates = [module, *(m for key, m in sorted(sys.modules.items()) if key.startswith("tbcore.") and m)]
    for candidate in candidates:
        if vars(candidate).get(name) is not value or not getattr(candidate, "__file__", None):
            continue
        source = pathlib.Path(candidate.__file__).read_text(encoding="utf-8")
        for node in ast.parse(source).body:
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                lines = source.splitlines()
                comment = [lines[node.lineno - 1].partition("#:")[2].strip()] if "#:" in lines[node.lineno - 1] else []
                above = node.lineno - 2
                while above >= 0 and lines[above].lstrip().startswith("#:"):
                    comment.insert(0, lines[above].lstrip()[2:].strip())
                    above -= 1
                segment = ast.get_source_segment(source, node) or ""
                return segment.split("  #:")[0], " ".join(comment)
    raise ValueError(f"{name}: no module-level assignment found for this public constant")


def _constant_section(name: str, value: object, module: types.ModuleType) -> list[str]:
    statement, comment = _assignment(name, value, module)
    if "\n" in statement or len(statement) > WIDTH:
        annotation = statement.split("=")[0].partition(":")[2].strip() or type(value).__name__
        statement = f"{name}: {annotation}"
    if not comment:
        raise ValueError(f"{name} has no '#:' comment saying what it is")
    return [f"### `{name}`", "", _code(statement), "", _inline(comment, module.__name__), ""]


def _kind(value: object) -> str:
    if isinstance(value, type):
        return "Classes"
    if isinstance(value, types.ModuleType):
        return "Modules"
    if inspect.isfunction(value):
        return "Functions"
    return "Constants and types"


def _section(module: types.ModuleType, name: str) -> list[str]:
    value = getattr(module, name)
    kind = _kind(value)
    qualname = f"{module.__name__}.{name}"
    if kind == "Classes":
        return _class_section(name, value, module.__name__)
    if kind == "Functions":
        return [f"### `{name}`", "", _code(signature(value, name=name)), "", _doc(value, qualname, module.__name__), ""]
    if kind == "Modules":
        first = (inspect.getdoc(value) or "").split("\n\n")[0].replace("\n", " ")
        link = f"[`{value.__name__}`]({PAGES[value.__name__]}.md)"
        return [f"### `{name}`", "", f"The module {link}: {_inline(first, module.__name__)}", ""]
    return _constant_section(name, value, module)


def public_names(module_name: str) -> list[str]:
    """The module's ``__all__`` in page order: :data:`FIRST` names, then the rest as listed."""
    names = list(importlib.import_module(module_name).__all__)
    first = [name for name in FIRST.get(module_name, []) if name in names]
    return first + [name for name in names if name not in first]


def render(module_name: str) -> str:
    """Return the Markdown page of ``module_name``."""
    module = importlib.import_module(module_name)
    groups: dict[str, list[str]] = {kind: [] for kind in _KINDS}
    for name in public_names(module_name):
        groups[_kind(getattr(module, name))] += _section(module, name)
    out = [
        f"# {module_name}",
        "",
        "<!-- Generated by tools/gen_api_docs.py from the docstrings; edit those and rerun the script. -->",
        "",
        _doc(module, module_name, module_name),
        "",
    ]
    for kind in _KINDS:
        if groups[kind]:
            out += [f"## {kind}", "", *groups[kind]]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).rstrip() + "\n"


def main(argv: list[str]) -> int:
    """Write every page (or, with ``--check``, list the stale ones and return 1 if there are any)."""
    stale = []
    for module_name, page in PAGES.items():
        path = DOCS / f"{page}.md"
        text = render(module_name)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(str(path.relative_to(ROOT)))
        if "--check" not in argv:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    verb = "out of date" if "--check" in argv else "written"
    for path in stale:
        print(f"{path} {verb}")
    return int(bool(stale) and "--check" in argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
