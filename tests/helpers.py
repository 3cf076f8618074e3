"""Helpers shared by the tests: the fixture's paths, settings of a test run, running the real
pipeline, and reading query results. Fixtures live in conftest.py; helpers live here."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingestion.content_hash import content_digest
from orchestration.run_report import RefreshOutcome
from orchestration.runner import run_refresh
from orchestration.settings import DEFAULT_TIMEZONE, SiyuSettings

FIXTURE_LANDING = Path(__file__).parent / "fixtures" / "landing"
TEST_SALT = "test-salt-not-a-secret"


@dataclass(frozen=True)
class PipelineRun:
    settings: SiyuSettings
    outcome: RefreshOutcome


def make_settings(
    root: Path,
    landing: Path,
    salt: str = TEST_SALT,
    max_quarantine_share: float = 0.5,
    business_timezone: str = DEFAULT_TIMEZONE,
    wechat_api_base: str = "http://127.0.0.1:9/not-reachable-in-tests",
) -> SiyuSettings:
    """Settings of a test run under `root`. The fixture quarantines 1 of the 3 visits of
    2026-11-01 on purpose (a conflicting duplicate), so its runs allow a higher share of
    quarantined rows than the default 5 %."""
    return SiyuSettings(
        landing_dir=str(landing),
        warehouse_path=str(root / "warehouse" / "siyu.duckdb"),
        work_db_path=str(root / "warehouse" / "siyu.work.duckdb"),
        logs_dir=str(root / "logs"),
        dagster_home=str(root / "dagster_home"),
        secrets_dir=str(root / "secrets"),
        wechat_api_base=wechat_api_base,
        business_timezone=business_timezone,
        pii_salt=salt,
        storage_version="v1.1.0",
        max_quarantine_share=max_quarantine_share,
    )


def run_pipeline(settings: SiyuSettings, **kwargs: Any) -> RefreshOutcome:
    """The refresh job, in-process, on an ephemeral Dagster instance; no WeChat fetch unless
    asked (`fetch_from_wechat=True`)."""
    from dagster import DagsterInstance

    kwargs.setdefault("fetch_from_wechat", False)
    with DagsterInstance.ephemeral() as instance:
        return run_refresh(settings, instance=instance, **kwargs)


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    """A query's rows as dicts by column name."""
    cursor = con.execute(sql)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def mart_contents(path: str) -> dict[str, list[tuple]]:
    """Every mart of a serving file, its rows sorted: to compare two builds."""
    with duckdb.connect(path, read_only=True) as con:
        tables = [
            t
            for (t,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts' "
                "and table_name <> 'publish_info'"  # when and by what: not data
            ).fetchall()
        ]
        return {
            t: sorted(con.execute(f"select * from marts.{t}").fetchall(), key=repr) for t in tables
        }


def by_key(records: list[dict], *key: str) -> dict:
    out = {}
    for record in records:
        k = tuple(record[name] for name in key)
        out[k if len(k) > 1 else k[0]] = record
    return out


def assert_row(actual: dict, expected: dict, where: str) -> None:
    for column, value in expected.items():
        got = actual[column]
        if isinstance(value, float):
            assert got == pytest.approx(value, rel=1e-12), f"{where}.{column}: {got} != {value}"
        else:
            assert got == value, f"{where}.{column}: {got!r} != {value!r}"
            if isinstance(value, Decimal):
                assert isinstance(got, Decimal), f"{where}.{column} is not an exact decimal"


def M(text: str) -> Decimal:
    return Decimal(text)


# throwaway environments of the clients tests (tests/test_clients.py), kept between test runs
CLIENTS_CACHE = Path(
    os.environ.get("SIYU_TEST_CLIENTS_CACHE", Path.home() / ".cache" / "siyu" / "test-clients")
)


def _cached_install(
    name: str, key_text: str, packages: tuple[str, ...], install: Callable[[Path], list[str]]
) -> Path:
    """A folder made once by `install` (which prepares the folder and returns the install
    command to run in it) and reused by later test runs, keyed by `key_text`; test workers wait
    for the one that installs it. Skips the test when the registry cannot provide `packages`."""
    folder = CLIENTS_CACHE / f"{name}-{content_digest(key_text.encode())[:10]}"
    CLIENTS_CACHE.mkdir(parents=True, exist_ok=True)
    with open(CLIENTS_CACHE / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / ".installed").exists():
            shutil.rmtree(folder, ignore_errors=True)
            command = install(folder)
            done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=600)
            if done.returncode != 0:
                pytest.skip(f"could not install {packages}: {done.stderr[-300:]}")
            (folder / ".installed").write_text(" ".join(packages) + "\n")
    return folder


def client_environment(name: str, requirements: tuple[str, ...]) -> Path:
    """A virtual environment with `requirements` installed (keyed by them and this Python's
    version), cached between test runs."""

    def make_venv(venv: Path) -> list[str]:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        return [str(venv / "bin" / "pip"), "install", "--quiet", *requirements]

    key = f"{sys.version_info[:2]} {' '.join(requirements)}"
    return _cached_install(name, key, requirements, make_venv)


def node_client_environment(name: str, packages: tuple[str, ...]) -> Path:
    """A folder with the npm `packages` installed (node_modules/), cached between test runs.
    Skips the test without Node.js and npm."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.skip("Node.js and npm are not installed")

    def make_package(folder: Path) -> list[str]:
        folder.mkdir(parents=True)
        (folder / "package.json").write_text('{"name": "siyu-test-client", "private": true}')
        return [npm, "install", "--no-audit", "--no-fund", "--silent", *packages]

    return _cached_install(name, " ".join(packages), packages, make_package)
