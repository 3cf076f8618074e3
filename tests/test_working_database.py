"""The working database's bookkeeping: its tables, the change log's kinds, the build record."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
import yaml

from ingestion.loading import load_source
from ingestion.queries import sql_literal
from ingestion.schemas import COMMISSION_RULES, MALL_ORDERS
from ingestion.working_database import (
    PENDING_CHANGES,
    ChangeKind,
    ensure_working_schema,
    needs_full_refresh,
    note_refresh_window,
    record_build_attempt,
    record_complete_build,
)
from orchestration.transform.project import DBT_PROJECT_DIR
from tests.helpers import FIXTURE_LANDING

pytestmark = pytest.mark.integration


def change_log(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select change_kind, source, business_date, entity_key, event_at "
        "from raw.pending_changes order by all"
    ).fetchall()


def test_nothing_is_logged_before_the_first_complete_build() -> None:
    with duckdb.connect(":memory:") as con:
        load_source(con, FIXTURE_LANDING, MALL_ORDERS, "Asia/Shanghai", "salt")
        assert change_log(con) == []  # the first build is a full refresh


def test_each_change_says_what_kind_it_is(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    (landing / "mall" / "orders").mkdir(parents=True)
    (landing / "distributors").mkdir()
    orders = landing / "mall" / "orders" / "2026-11-02.csv"
    header = (FIXTURE_LANDING / "mall" / "orders" / "2026-11-02.csv").read_text().splitlines()[0]
    orders.write_text(
        header + "\nO9,u1,2026-11-01T10:00:00+08:00,2026-11-01T10:05:00+08:00,refunded,qr,,,1,"
        "10.00,0.00,10.00,10.00,2026-11-02T09:00:00+08:00,2026-11-02T09:00:00+08:00\n"
    )
    rules = FIXTURE_LANDING / "distributors" / "commission_rules.csv"
    (landing / "distributors" / "commission_rules.csv").write_bytes(rules.read_bytes())
    with duckdb.connect(":memory:") as con:
        ensure_working_schema(con)
        record_complete_build(con, "fingerprint", datetime(2026, 11, 1, tzinfo=UTC), True)
        load_source(con, landing, MALL_ORDERS, "Asia/Shanghai", "salt")
        load_source(con, landing, COMMISSION_RULES, "Asia/Shanghai", "salt")
        note_refresh_window(con, date(2026, 11, 2), date(2026, 11, 3))
        assert change_log(con) == [
            ("entity", "mall_orders", None, "O9", None),
            # created, paid and refunded instants; created_at 10:00 +08:00
            ("event_instant", "mall_orders", None, None, datetime(2026, 11, 1, 2, 0, tzinfo=UTC)),
            ("event_instant", "mall_orders", None, None, datetime(2026, 11, 1, 2, 5, tzinfo=UTC)),
            ("event_instant", "mall_orders", None, None, datetime(2026, 11, 2, 1, 0, tzinfo=UTC)),
            ("file_date", "mall_orders", date(2026, 11, 2), None, None),
            # the buyer, whose per-user figures change
            ("owner", "mall_orders", None, "u1", None),
            ("refresh_window", None, date(2026, 11, 2), None, None),
            ("refresh_window", None, date(2026, 11, 3), None, None),
            ("whole_file", "distributors_commission_rules", None, None, None),
        ]
        # a change row must carry what its kind names
        with pytest.raises(duckdb.ConstraintException):
            con.execute(
                "insert into raw.pending_changes (change_kind, source, noted_at) "
                "values ('entity', 'mall_orders', now())"
            )
        # a complete build applies the log up to its start
        applied = record_complete_build(con, "fingerprint", datetime.now(UTC), False)
        assert applied == 9 and change_log(con) == []


def test_a_change_log_without_kinds_is_replaced() -> None:
    # Siyu 0.1's log had no change_kind; its upgrade changes the dbt project, so the next build
    # is a full refresh and the old log is not needed
    with duckdb.connect(":memory:") as con:
        con.execute("create schema raw")
        con.execute(
            "create table raw.pending_changes (source varchar not null, file_date date, "
            "entity_key varchar, event_at timestamptz, noted_at timestamptz not null)"
        )
        con.execute(
            "insert into raw.pending_changes values ('mall_orders', null, 'O1', null, now())"
        )
        ensure_working_schema(con)
        columns = [
            name
            for (name,) in con.execute(
                "select column_name from duckdb_columns() where table_name = 'pending_changes'"
            ).fetchall()
        ]
        assert columns[0] == "change_kind" and change_log(con) == []


def create_change_log_before_owners(con: duckdb.DuckDBPyConnection) -> None:
    """A change log as created before the `owner` kind (its check rejects owner rows), with a
    row in it and the comment of today's log."""
    con.execute(
        "create table raw.pending_changes (change_kind varchar not null, source varchar, "
        "business_date date, entity_key varchar, event_at timestamptz, "
        "noted_at timestamptz not null, "
        "check (case change_kind when 'entity' then entity_key is not null else false end))"
    )
    con.execute(
        f"comment on table raw.pending_changes is {sql_literal(PENDING_CHANGES.description)}"
    )
    con.execute("insert into raw.pending_changes values ('entity', 'x', null, 'O1', null, now())")


@pytest.mark.parametrize(
    "rest_of_the_database",
    # alone, and in a database otherwise current (the quick look at the catalog must see it)
    ["absent", "current"],
)
def test_a_change_log_that_predates_owners_is_replaced(rest_of_the_database: str) -> None:
    with duckdb.connect(":memory:") as con:
        if rest_of_the_database == "current":
            ensure_working_schema(con)
            con.execute("drop table raw.pending_changes")
        else:
            con.execute("create schema raw")
        create_change_log_before_owners(con)
        ensure_working_schema(con)
        assert change_log(con) == []
        con.execute(
            "insert into raw.pending_changes (change_kind, source, entity_key, noted_at) "
            "values ('owner', 'mall_orders', 'u1', now())"
        )
        ensure_working_schema(con)  # a current log is kept
        assert change_log(con) == [("owner", "mall_orders", None, "u1", None)]


def test_the_staged_change_log_accepts_every_kind() -> None:
    # the dbt test on stg_landing__pending_changes lists the kinds: it must know each one
    models = yaml.safe_load(
        (DBT_PROJECT_DIR / "models" / "staging" / "landing" / "_landing__models.yml").read_text()
    )["models"]
    (staged,) = [model for model in models if model["name"] == "stg_landing__pending_changes"]
    (kind,) = [column for column in staged["columns"] if column["name"] == "change_kind"]
    (accepted,) = [test for test in kind["data_tests"] if isinstance(test, dict)]
    assert sorted(accepted["accepted_values"]["arguments"]["values"]) == sorted(ChangeKind)


def test_a_build_of_other_logic_that_did_not_complete_forces_a_full_refresh() -> None:
    def at(minute: int) -> datetime:
        return datetime(2026, 12, 1, 8, minute, tzinfo=UTC)

    with duckdb.connect(":memory:") as con:
        ensure_working_schema(con)
        assert needs_full_refresh(con, "F")  # no complete build yet
        record_build_attempt(con, "F", at(0))
        record_complete_build(con, "F", at(0), full_refresh=True)
        assert not needs_full_refresh(con, "F")
        # a failed build of the same logic leaves nothing of other logic behind
        record_build_attempt(con, "F", at(1))
        assert not needs_full_refresh(con, "F")
        # a failed build of other logic (an upgrade, rolled back) may have rebuilt tables and
        # seeds with it: going back to F is a full refresh
        record_build_attempt(con, "G", at(2))
        assert needs_full_refresh(con, "F")
        assert needs_full_refresh(con, "G")  # never completed
        record_build_attempt(con, "F", at(3))
        record_complete_build(con, "F", at(3), full_refresh=True)
        assert not needs_full_refresh(con, "F")
        assert con.execute("select count(*) from raw.dbt_build_attempts").fetchone() == (0,)
