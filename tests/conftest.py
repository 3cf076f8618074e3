"""Shared fixtures: the real pipeline (Dagster + dbt + DuckDB) run once on the hand-made data."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import RefreshOutcome, run_refresh
from orchestration.settings import RunSettings

FIXTURE_LANDING = Path(__file__).parent / "fixtures" / "landing"
TEST_SALT = "test-salt-not-a-secret"


@dataclass(frozen=True)
class PipelineRun:
    settings: RunSettings
    outcome: RefreshOutcome


def make_settings(
    root: Path, landing: Path, salt: str = TEST_SALT, max_quarantine_share: str = "0.5"
) -> RunSettings:
    """Settings of a test run. The fixture quarantines 1 of the 3 visits of 2026-11-01 on
    purpose (a conflicting duplicate), so its runs allow a higher share than the default 5 %."""
    return RunSettings(
        landing_dir=str(landing),
        warehouse_path=str(root / "warehouse" / "siyu.duckdb"),
        work_db_path=str(root / "warehouse" / "siyu.work.duckdb"),
        business_timezone="Asia/Shanghai",
        pii_salt=salt,
        storage_version="v1.1.0",
        max_quarantine_share=max_quarantine_share,
    )


def run_pipeline(settings: RunSettings, **kwargs: object) -> RefreshOutcome:
    from dagster import DagsterInstance

    with DagsterInstance.ephemeral() as instance:
        return run_refresh(settings, instance=instance, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def fixture_run(tmp_path_factory: pytest.TempPathFactory) -> PipelineRun:
    root = tmp_path_factory.mktemp("fixture_run")
    landing = root / "landing"
    shutil.copytree(FIXTURE_LANDING, landing)
    settings = make_settings(root, landing)
    outcome = run_pipeline(settings)
    assert outcome.success, outcome.failure_lines
    return PipelineRun(settings, outcome)


@pytest.fixture(scope="session")
def day_by_day_run(tmp_path_factory: pytest.TempPathFactory) -> PipelineRun:
    """The fixture refreshed one partition at a time, as the daily schedule does: later days'
    files (late refunds, article re-fetches) must update the marts of earlier days."""
    from datetime import date, timedelta

    root = tmp_path_factory.mktemp("day_by_day_run")
    landing = root / "landing"
    shutil.copytree(FIXTURE_LANDING, landing)
    settings = make_settings(root, landing)
    day = date(2026, 10, 30)
    outcome = None
    while day <= date(2026, 11, 3):
        outcome = run_pipeline(settings, start=day, end=day)
        assert outcome.success, (day, outcome.failure_lines)
        day += timedelta(days=1)
    assert outcome is not None
    return PipelineRun(settings, outcome)


@pytest.fixture(scope="session", params=["one_run", "day_by_day"])
def serving(request: pytest.FixtureRequest) -> Iterator[duckdb.DuckDBPyConnection]:
    """The serving file after refreshing every day in one run, and one day at a time."""
    run_fixture = "fixture_run" if request.param == "one_run" else "day_by_day_run"
    run: PipelineRun = request.getfixturevalue(run_fixture)
    con = duckdb.connect(run.settings.warehouse_path, read_only=True)
    yield con
    con.close()
