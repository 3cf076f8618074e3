"""Shared fixtures: the real pipeline (Dagster + dbt + DuckDB) run once on the hand-made data.
Helpers shared by the tests are in tests/helpers.py."""

from __future__ import annotations

import fcntl
import pickle
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.run_report import RefreshOutcome
from orchestration.settings import SiyuSettings
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


@contextmanager
def _built_once(
    tmp_path_factory: pytest.TempPathFactory, worker_id: str, name: str
) -> Iterator[tuple[Path, Path | None]]:
    """A folder that one test process builds and the others reuse: the xdist workers of a run
    share their base folder's parent, so a lock there lets the first worker build the fixture
    while the others wait for it, instead of every worker running the pipeline again.
    Yields the folder and the file to write the outcome to (None: already built)."""
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent
    root = shared / name
    with open(shared / f"{name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            outcome_file = root / "outcome.pickle"
            yield root, None if outcome_file.exists() else outcome_file
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _shared_run(
    tmp_path_factory: pytest.TempPathFactory,
    worker_id: str,
    name: str,
    refresh: Callable[[SiyuSettings], RefreshOutcome],
) -> PipelineRun:
    with _built_once(tmp_path_factory, worker_id, name) as (root, to_write):
        settings = make_settings(root, root / "landing")
        if to_write is not None:
            shutil.rmtree(root, ignore_errors=True)
            shutil.copytree(FIXTURE_LANDING, root / "landing")
            outcome = refresh(settings)
            to_write.write_bytes(pickle.dumps(outcome))
        outcome = pickle.loads((root / "outcome.pickle").read_bytes())
    return PipelineRun(settings, outcome)


def _refresh_everything(settings: SiyuSettings) -> RefreshOutcome:
    outcome = run_pipeline(settings)
    assert outcome.success, outcome.failure_lines
    return outcome


@pytest.fixture(scope="session")
def fixture_run(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> PipelineRun:
    """The fixture refreshed in one run (built once per test session; read it, or copy it)."""
    return _shared_run(tmp_path_factory, worker_id, "fixture_run", _refresh_everything)


def fixture_file_days() -> list[date]:
    """The dates in the names of the fixture's daily files."""
    days = set()
    for path in FIXTURE_LANDING.rglob("*"):
        try:
            days.add(date.fromisoformat(path.stem))
        except ValueError:
            continue
    return sorted(days)


def _refresh_day_by_day(settings: SiyuSettings) -> RefreshOutcome:
    # every day with a file, in order: 10-30 .. 11-03, 11-30 (the article fetch and late
    # exports of earlier sessions and orders), 12-01
    outcome = None
    for day in fixture_file_days():
        outcome = run_pipeline(settings, start=day, end=day)
        assert outcome.success, (day, outcome.failure_lines)
    assert outcome is not None
    return outcome


@pytest.fixture(scope="session")
def day_by_day_run(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> PipelineRun:
    """The fixture refreshed one partition at a time, as the daily schedule does: later days'
    files (late refunds, article re-fetches) must update the marts of earlier days."""
    return _shared_run(tmp_path_factory, worker_id, "day_by_day_run", _refresh_day_by_day)


@pytest.fixture(scope="session", params=["one_run", "day_by_day"])
def serving(request: pytest.FixtureRequest) -> Iterator[duckdb.DuckDBPyConnection]:
    """The serving file after refreshing every day in one run, and one day at a time."""
    run_fixture = "fixture_run" if request.param == "one_run" else "day_by_day_run"
    run: PipelineRun = request.getfixturevalue(run_fixture)
    con = duckdb.connect(run.settings.warehouse_path, read_only=True)
    yield con
    con.close()
