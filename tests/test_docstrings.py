"""Every public function and method of the commands (``benchframe/cli``) and of the conformance kit
(``benchframe/testing``) says what it does: those are what a contributor adding a command, or a design author
reading the kit, reads first."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "benchframe"


def public_defs(path: Path) -> list[str]:
    """The public functions and methods of a module (those of private classes too) without a docstring."""
    missing = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_") and not ast.get_docstring(node):
            missing.append(node.name)
        if isinstance(node, ast.ClassDef):
            missing += [f"{node.name}.{f.name}" for f in node.body if isinstance(f, ast.FunctionDef)
                        and not f.name.startswith("_") and not ast.get_docstring(f)]
    return missing


@pytest.mark.parametrize("path", sorted((ROOT / "cli").glob("*.py")) + sorted((ROOT / "testing").glob("*.py")),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_public_functions_are_documented(path):
    assert public_defs(path) == []
