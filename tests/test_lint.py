"""Style is part of the build: ruff for Python, sqlfluff (dbt templater, duckdb) for SQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff() -> None:
    result = run(sys.executable, "-m", "ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("folder", ["models", "macros"])
def test_sqlfluff(folder: str) -> None:
    result = run(sys.executable, "-m", "sqlfluff", "lint", f"dbt_project/{folder}")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


PRODUCT_PACKAGES = ("orchestration", "ingestion", "expectations")


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
