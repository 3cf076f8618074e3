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
