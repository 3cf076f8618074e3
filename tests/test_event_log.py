"""The Dagster instance Siyu prepares: its event log keeps its SQLite connections open, in
Dagster's own files, which a stock Dagster reads; a running run's file changes as it goes on."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from dagster import AssetCheckResult, DagsterInstance, asset, asset_check, materialize
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.event_log import SqliteEventLogStorage

from orchestration.event_log import KeptConnectionsSqliteEventLogStorage
from orchestration.runner import prepare_dagster_home

pytestmark = pytest.mark.integration


@asset
def numbers() -> int:
    return 3


@asset_check(asset=numbers)
def numbers_are_positive() -> AssetCheckResult:
    return AssetCheckResult(passed=True)


def test_runs_are_stored_where_and_as_stock_dagster_reads_them(tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    prepare_dagster_home(home)
    with DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        assert isinstance(instance.event_log_storage, KeptConnectionsSqliteEventLogStorage)
        result = materialize([numbers, numbers_are_positive], instance=instance)
        assert result.success
        run_id = result.run_id
        written = [entry.dagster_event_type for entry in instance.all_logs(run_id)]
    assert (home / "history" / "runs" / f"{run_id}.db").exists()
    # Dagster's own storage on the same folder (as a UI without Siyu's settings would read it)
    stock = SqliteEventLogStorage(str(home / "history" / "runs"))
    try:
        assert [entry.dagster_event_type for entry in stock.get_logs_for_run(run_id)] == written
        assert stock.get_latest_materialization_events([numbers.key])[numbers.key] is not None
    finally:
        stock.dispose()


def test_a_running_runs_database_file_changes_at_least_every_second(tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    prepare_dagster_home(home)
    with DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        result = materialize([numbers], instance=instance)
        database = home / "history" / "runs" / f"{result.run_id}.db"
        entry = instance.all_logs(result.run_id)[-1]
        before = database.stat().st_size
        for _ in range(40):  # events for a second and more, through a kept connection
            instance.event_log_storage.store_event(entry)
            time.sleep(0.05)
        # the file the UI watches has the new events, not only the WAL beside it
        assert database.stat().st_size > before


def test_an_older_siyu_dagster_yaml_is_replaced_and_a_persons_is_kept(tmp_path: Path) -> None:
    ours = tmp_path / "ours"
    ours.mkdir()
    (ours / "dagster.yaml").write_text("# Written by siyu. Older settings\ntelemetry: {}\n")
    prepare_dagster_home(ours)
    assert "KeptConnectionsSqliteEventLogStorage" in (ours / "dagster.yaml").read_text()
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "dagster.yaml").write_text("telemetry:\n  enabled: true\n")
    prepare_dagster_home(theirs)
    assert (theirs / "dagster.yaml").read_text() == "telemetry:\n  enabled: true\n"
