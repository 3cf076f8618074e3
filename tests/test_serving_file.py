"""What the pipeline leaves on the fixture: serving file, lineage, quarantine, idempotency."""

from __future__ import annotations

import re
import shutil
from datetime import date
from importlib.metadata import version
from pathlib import Path

import duckdb
import pytest

from ingestion.schemas import SOURCES
from tests.helpers import (
    FIXTURE_LANDING,
    PipelineRun,
    make_settings,
    mart_contents,
    rows,
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
    "user_retention",
    "buyer_cohorts",
    "buyer_cohorts_by_channel",
    "buyer_growth_accounting",
    "activity_performance",
    "customer_segments",
    "distributor_referrals",
    "segment_thresholds",
}
COUNT, MONEY, RATE, DATE, TEXT, SCORE = (
    "BIGINT",
    "DECIMAL(18,2)",
    "DOUBLE",
    "DATE",
    "VARCHAR",
    "INTEGER",
)
COHORT_COLUMNS = {
    "cohort_month": DATE,
    "months_since_first": COUNT,
    "cohort_buyers": COUNT,
    "active_buyers": COUNT,
    "retention_rate": RATE,
    "paid_orders": COUNT,
    "gmv": MONEY,
    "refunds": MONEY,
    "cumulative_net_revenue": MONEY,
    "ltv": MONEY,
}
# the growth marts' public columns and types, in order (spec/metrics.md, "Growth marts")
GROWTH_MART_COLUMNS = {
    "user_retention": {
        "cohort_date": DATE,
        "new_users": COUNT,
        **{f"retained_d{n}": COUNT for n in (1, 7, 30)},
        **{f"retention_rate_d{n}": RATE for n in (1, 7, 30)},
    },
    "buyer_cohorts": COHORT_COLUMNS,
    "buyer_cohorts_by_channel": {
        "cohort_month": DATE,
        "channel_code": TEXT,
        **{k: v for k, v in COHORT_COLUMNS.items() if k != "cohort_month"},
        "cohort_spend": MONEY,
        "return_on_cohort_spend": RATE,
    },
    "buyer_growth_accounting": {
        "month": DATE,
        **{
            f"{kind}buyers": COUNT
            for kind in ("", "new_", "retained_", "resurrected_", "churned_", "repeat_")
        },
        "repeat_purchase_rate": RATE,
        "quick_ratio": RATE,
    },
    "activity_performance": {
        "date": DATE,
        "activity_code": TEXT,
        "paid_orders": COUNT,
        "buyers": COUNT,
        "units": COUNT,
        "gmv": MONEY,
        "gross_sales": MONEY,
        "discounts": MONEY,
        "discount_rate": RATE,
        "new_buyers": COUNT,
        "new_buyer_share": RATE,
        "refunds": MONEY,
        "net_revenue": MONEY,
        "average_order_value": MONEY,
    },
    "customer_segments": {
        "as_of_date": DATE,
        "user_id": TEXT,
        "channel_code": TEXT,
        "first_paid_date": DATE,
        "last_paid_date": DATE,
        "paid_orders": COUNT,
        "gmv": MONEY,
        "refunds": MONEY,
        "net_spend": MONEY,
        "average_order_value": MONEY,
        "recency_days": COUNT,
        "r_score": SCORE,
        "f_score": SCORE,
        "m_score": SCORE,
        "lifecycle_stage": TEXT,
    },
    "distributor_referrals": {
        "month": DATE,
        "distributor_id": TEXT,
        "distributor_name": TEXT,
        "tier": TEXT,
        "referred_users": COUNT,
        "referred_buyers": COUNT,
        "first_time_buyers": COUNT,
        "referred_gmv": MONEY,
    },
}
PHONE = re.compile(r"1[3-9]\d{9}")


def test_growth_marts_have_the_spec_columns_and_types(serving: duckdb.DuckDBPyConnection) -> None:
    for mart, columns in GROWTH_MART_COLUMNS.items():
        actual = serving.execute(
            "select column_name, data_type from duckdb_columns() "
            "where schema_name = 'marts' and table_name = ? order by column_index",
            [mart],
        ).fetchall()
        assert dict(actual) == columns, mart
        assert [name for name, _ in actual] == list(columns), mart


def test_serving_file_holds_marts_and_quarantine_only(serving: duckdb.DuckDBPyConnection) -> None:
    tables = serving.execute("select schema_name, table_name from duckdb_tables()").fetchall()
    assert {schema for schema, _ in tables} == {"marts", "quarantine"}
    assert {table for schema, table in tables if schema == "marts"} == SPEC_MARTS | {"publish_info"}


# the tables of the marts schema that are not marts of a grain: the seeds and the publish record
NOT_A_GRAIN = {"kpi_targets", "segment_thresholds", "publish_info"}


def test_every_public_table_and_column_describes_itself(
    serving: duckdb.DuckDBPyConnection,
) -> None:
    public = "schema_name in ('marts', 'quarantine')"
    tables = serving.execute(
        f"select schema_name, table_name, coalesce(comment, '') from duckdb_tables() where {public}"
    ).fetchall()
    columns = serving.execute(
        "select schema_name, table_name, column_name, data_type, coalesce(comment, '') "
        f"from duckdb_columns() where {public}"
    ).fetchall()
    assert [f"{s}.{t}" for s, t, comment in tables if not comment] == []
    assert [f"{s}.{t}.{c}" for s, t, c, _, comment in columns if not comment] == []
    # a mart says its grain; money says it is CNY; a rate or share says it is a fraction
    assert [
        t
        for s, t, comment in tables
        if s == "marts" and t not in NOT_A_GRAIN and "Grain" not in comment
    ] == []
    money = [
        f"{t}.{c}"
        for s, t, c, data_type, comment in columns
        if data_type == "DECIMAL(18,2)" and "CNY" not in comment and t != "segment_thresholds"
    ]
    assert money == []
    rates = [
        f"{t}.{c}"
        for s, t, c, _, comment in columns
        if c.endswith(("_rate", "_share")) and "fraction" not in comment
    ]
    assert rates == []


def test_the_publish_record_says_what_the_data_is_as_of(
    serving: duckdb.DuckDBPyConnection,
) -> None:
    record = rows(serving, "select * from marts.publish_info order by source")
    assert {r["source"] for r in record} == {schema.name for schema in SOURCES}
    assert {
        (r["first_date"], r["last_date"], r["business_timezone"], r["storage_version"])
        for r in record
    } == {(date(2026, 10, 30), date(2026, 12, 1), "Asia/Shanghai", "v1.1.0")}
    assert {r["siyu_version"] for r in record} == {version("siyu")}
    last = {r["source"]: r["last_file_date"] for r in record}
    assert last["mall_orders"] == date(2026, 12, 1)
    assert last["mall_visits"] == date(2026, 11, 30)
    assert last["channels_registry"] is None  # a whole file
    # every source of the fixture landed; one publish
    assert all(r["last_loaded_at"] is not None for r in record)
    assert len({r["published_at"] for r in record}) == 1


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
    # users 001 .. 006, one phone each
    assert len(hashes) == 6 and all(len(h) == 64 for (h,) in hashes)


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
