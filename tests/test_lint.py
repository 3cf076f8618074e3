"""Style is part of the build: ruff (lint, format, unused noqa) and mypy for Python, sqlfluff
(dbt templater, duckdb) for SQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.lint


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff() -> None:
    # the rules include RUF100: a `noqa` that silences nothing is an error too
    result = run(sys.executable, "-m", "ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = run(sys.executable, "-m", "ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy() -> None:
    # over the product's packages, as configured in pyproject.toml
    result = run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


@pytest.mark.parametrize("folder", ["models", "macros"])
def test_sqlfluff(folder: str) -> None:
    result = run(sys.executable, "-m", "sqlfluff", "lint", f"dbt_project/{folder}")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


PRODUCT_PACKAGES = ("orchestration", "ingestion", "expectations", "synthetic", "connectors")


def test_no_duckdb_result_is_left_half_read() -> None:
    # DuckDB 2.0 refuses other work on a connection whose last result is only partly fetched
    # (the first-refresh crash of issue 8): results are read whole, through ingestion.queries
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in PRODUCT_PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if (".fetchone(" in line or ".fetchmany(" in line)
        and not line.lstrip().startswith("#")
        and path.name != "queries.py"
    ]
    assert offenders == [], f"use ingestion.queries.fetch_row / fetch_value: {offenders}"


def _imported_top_level_names(folders: tuple[str, ...]) -> dict[str, str]:
    """{top-level module: a file importing it} over every Python file of `folders`."""
    import ast

    found: dict[str, str] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def test_every_imported_package_is_declared() -> None:
    import importlib.metadata
    import re
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = project["dependencies"] + [
        requirement for extra in project["optional-dependencies"].values() for requirement in extra
    ]

    def normalized(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    declared = {normalized(re.split(r"[<>=!~\[ ;]", r, maxsplit=1)[0]) for r in requirements}
    first_party = {"orchestration", "ingestion", "expectations", "synthetic", "connectors", "tests"}
    distributions = importlib.metadata.packages_distributions()
    undeclared = {}
    for module, where in _imported_top_level_names(
        (*PRODUCT_PACKAGES, "tests", "benchmarks")
    ).items():
        if module in sys.stdlib_module_names or module in first_party or module == "__future__":
            continue
        owners = {normalized(d) for d in distributions.get(module, [module])}
        if not owners & declared:
            undeclared[module] = (sorted(owners), where)
    assert undeclared == {}, f"imported but not declared in pyproject.toml: {undeclared}"
