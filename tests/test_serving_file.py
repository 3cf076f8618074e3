"""What the pipeline leaves on the fixture: serving file, lineage, quarantine, idempotency."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.helpers import (
    FIXTURE_LANDING,
    PipelineRun,
    make_settings,
    mart_contents,
    run_pipeline,
)

pytestmark = pytest.mark.e2e

SPEC_MARTS = {
    "daily_active_rate",
    "daily_active_rate_by_channel",
    "order_conversion",
    "order_conversion_by_channel",
    "average_order_value",
    "average_order_value_by_channel",
    "content_performance",
    "follower_growth",
    "follower_growth_by_source",
    "channel_performance",
    "distributor_commissions",
    "kpi_scorecard",
    "kpi_targets",
}
PHONE = re.compile(r"1[3-9]\d{9}")


def test_serving_file_holds_marts_and_quarantine_only(serving: duckdb.DuckDBPyConnection) -> None:
    tables = serving.execute("select schema_name, table_name from duckdb_tables()").fetchall()
    assert {schema for schema, _ in tables} == {"marts", "quarantine"}
    assert {table for schema, table in tables if schema == "marts"} == SPEC_MARTS


def test_no_phone_number_reaches_the_serving_file(serving: duckdb.DuckDBPyConnection) -> None:
    columns = serving.execute(
        "select schema_name, table_name, column_name from duckdb_columns() "
        "where data_type = 'VARCHAR'"
    ).fetchall()
    assert columns
    for schema, table, column in columns:
        values = serving.execute(f'select "{column}" from {schema}."{table}"').fetchall()
        for (value,) in values:
            assert value is None or not PHONE.search(value), f"{schema}.{table}.{column}"


def test_serving_file_is_in_the_configured_storage_version(fixture_run: PipelineRun) -> None:
    with duckdb.connect(":memory:") as con:
        con.execute("attach ? as s (read_only)", [fixture_run.settings.warehouse_path])
        version = con.execute(
            "select tags['storage_version'] from duckdb_databases() where database_name = 's'"
        ).fetchone()
    # DuckDB tags a file with the oldest release that can read it; its own default is v2.0.0+,
    # which no 1.x client opens
    assert version is not None and version[0] == "v1.0.0+"


def test_rows_landed_equal_rows_loaded_plus_quarantined(fixture_run: PipelineRun) -> None:
    with duckdb.connect(fixture_run.settings.work_db_path, read_only=True) as con:
        files = con.execute(
            "select source, file, rows_landed, rows_loaded, rows_rejected from raw.landed_files"
        ).fetchall()
        assert len(files) == len(list(FIXTURE_LANDING.rglob("*.*"))) - 0
        for source, file, landed, loaded, rejected in files:
            assert landed == loaded + rejected, file
            raw_rows = con.execute(
                f"select count(*) from raw.{source} where _file = ?", [file]
            ).fetchone()[0]
            quarantined = con.execute(
                "select count(*) from quarantine.rejected_rows where file = ?", [file]
            ).fetchone()[0]
            assert (raw_rows, quarantined) == (loaded, rejected), file
        conflict = con.execute(
            "select file, row_number, reason from quarantine.rejected_rows"
        ).fetchall()
    assert conflict == [
        (
            "mall/visits/2026-11-01.csv",
            3,
            "conflicting duplicate of session_id: an earlier file has the same key with other "
            "values (the first one is kept)",
        )
    ]


def test_phone_is_a_salted_hash_in_the_working_database(fixture_run: PipelineRun) -> None:
    with duckdb.connect(fixture_run.settings.work_db_path, read_only=True) as con:
        hashes = con.execute("select distinct phone_hash from raw.mall_users").fetchall()
    assert len(hashes) == 4 and all(len(h) == 64 for (h,) in hashes)


def test_running_twice_gives_the_same_marts(tmp_path: Path, fixture_run: PipelineRun) -> None:
    # the fixture's refreshed working database, refreshed again with every file re-parsed: every
    # raw row is replaced and every logged entity and date recomputed (delete+insert)
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURE_LANDING, landing)
    settings = make_settings(tmp_path, landing)
    Path(settings.work_db_path).parent.mkdir(parents=True)
    shutil.copyfile(fixture_run.settings.work_db_path, settings.work_db_path)
    once = mart_contents(fixture_run.settings.warehouse_path)
    assert run_pipeline(settings, force_reload=True).success
    assert mart_contents(settings.warehouse_path) == once
