"""Shared fixtures: the real pipeline (Dagster + dbt + DuckDB) run once on the hand-made data.
Helpers shared by the tests are in tests/helpers.py."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date

import duckdb
import pytest

from tests.helpers import FIXTURE_LANDING, PipelineRun, make_settings, run_pipeline

LAYERS = ("unit", "integration", "lint", "e2e", "ui")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test is in exactly one layer, so `-m "unit or integration"` is the fast loop."""
    wrong = [
        item.nodeid
        for item in items
        if len({mark.name for mark in item.iter_markers()} & set(LAYERS)) != 1
    ]
    if wrong:
        raise pytest.UsageError(f"tests must carry one layer marker of {LAYERS}: {wrong}")


@pytest.fixture(scope="session")
def fixture_run(tmp_path_factory: pytest.TempPathFactory) -> PipelineRun:
    root = tmp_path_factory.mktemp("fixture_run")
    landing = root / "landing"
    shutil.copytree(FIXTURE_LANDING, landing)
    settings = make_settings(root, landing)
    outcome = run_pipeline(settings)
    assert outcome.success, outcome.failure_lines
    return PipelineRun(settings, outcome)


def fixture_file_days() -> list[date]:
    """The dates in the names of the fixture's daily files."""
    days = set()
    for path in FIXTURE_LANDING.rglob("*"):
        try:
            days.add(date.fromisoformat(path.stem))
        except ValueError:
            continue
    return sorted(days)


@pytest.fixture(scope="session")
def day_by_day_run(tmp_path_factory: pytest.TempPathFactory) -> PipelineRun:
    """The fixture refreshed one partition at a time, as the daily schedule does: later days'
    files (late refunds, article re-fetches) must update the marts of earlier days."""
    root = tmp_path_factory.mktemp("day_by_day_run")
    landing = root / "landing"
    shutil.copytree(FIXTURE_LANDING, landing)
    settings = make_settings(root, landing)
    # every day with a file, in order: 10-30 .. 11-03, 11-30 (the article fetch and late
    # exports of earlier sessions and orders), 12-01
    outcome = None
    for day in fixture_file_days():
        outcome = run_pipeline(settings, start=day, end=day)
        assert outcome.success, (day, outcome.failure_lines)
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
