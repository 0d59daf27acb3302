"""The clinical package stays plain Python: no Django, data in files."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "intake" / "clinical"
MODULES = sorted(PACKAGE.rglob("*.py"))


def test_the_package_has_its_modules():
    names = {path.name for path in MODULES}

    assert {"__init__.py", "screening.py", "medications.py", "dosing.py", "beyond_use.py"} <= names


@pytest.mark.parametrize("path", MODULES, ids=[path.name for path in MODULES])
def test_no_module_imports_django(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))

    imported: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.append(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__":
            imported.extend(str(arg.value) for arg in node.args if isinstance(arg, ast.Constant))

    assert not [name for name in imported if name == "django" or name.startswith("django.")]
    assert "rest_framework" not in " ".join(imported)


@pytest.mark.parametrize(
    "filename",
    ["products.csv", "ingredients.csv", "lookalikes.csv", "cues.json", "normalisation.json", "dosing.json",
     "screening.json", "usp795.json"],
)  # fmt: skip
def test_the_data_files_exist(filename: str):
    assert (PACKAGE / "data" / filename).is_file()
