"""The code's shape, checked: no private name is imported or used across modules (the
layers and the UI/physics split are import-linter contracts in pyproject.toml, run by
scripts/test), and no callback of the UI is longer than a screen."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "dashboard"
MAX_CALLBACK_LINES = 30     # a callback's body; its work is in logic and services


def modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_private_names_cross_modules():
    offences = []
    for path in modules():
        tree = ast.parse(path.read_text(), str(path))
        own = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)}
        imported_modules = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dashboard"):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        offences.append(f"{path.name}: from {node.module} import {alias.name}")
                    imported_modules.add(alias.asname or alias.name)
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("dashboard"):
                        imported_modules.add(alias.asname or alias.name.split(".")[0])
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                    and not node.attr.startswith("__") and isinstance(node.value, ast.Name)
                    and node.value.id in imported_modules and node.value.id not in own):
                offences.append(f"{path.name}: {node.value.id}.{node.attr}")
    assert not offences, offences


def test_callbacks_are_short():
    long = []
    for path in sorted(ROOT.glob("ui/*/callbacks.py")):
        tree = ast.parse(path.read_text())
        for fn in tree.body:
            if isinstance(fn, ast.FunctionDef) and fn.name != "register":
                body = fn.body[1:] if ast.get_docstring(fn) else fn.body
                lines = body[-1].end_lineno - body[0].lineno + 1
                if lines > MAX_CALLBACK_LINES:
                    long.append(f"{path.parent.name}.{fn.name}: {lines} lines")
    assert not long, long
