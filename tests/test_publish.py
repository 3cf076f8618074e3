"""Write-audit-publish: atomic swap, stale WAL, concurrent readers, crashes, old clients."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.serving.publish import publish_serving_file
from tests.helpers import FIXTURE_LANDING, TEST_SALT, PipelineRun

GMV_PAIR_SQL = (
    "select (select sum(gmv) from marts.average_order_value), "
    "(select sum(gmv) from marts.channel_performance)"
)


@pytest.fixture
def small_work_db(tmp_path: Path) -> str:
    """A working database made by hand: two marts whose gmv totals agree (5 days; 4 channels a
    day), a quarantine table, and a raw table that must not be published; the calendar and the
    landed files the publish record reads."""
    path = tmp_path / "small.work.duckdb"
    with duckdb.connect(str(path)) as con:
        for schema in ("marts", "quarantine", "raw", "intermediate"):
            con.execute(f"create schema {schema}")
        con.execute(
            "create table intermediate.int_calendar_dates as select "
            "cast(date '2026-11-01' + cast(day as integer) as date) as date_day "
            "from range(5) as days(day)"
        )
        con.execute(
            "create table raw.landed_files as select 'mall_orders' as source, "
            "date '2026-11-05' as file_date, now() as loaded_at, 'loaded' as status"
        )
        con.execute(
            "create table marts.average_order_value as select "
            "cast(date '2026-11-01' + cast(day as integer) as date) as date, "
            "cast(40.00 * (day + 1) as decimal(18, 2)) as gmv from range(5) as days(day)"
        )
        con.execute(
            "create table marts.channel_performance as select aov.date, channel_code, "
            "cast(aov.gmv / 4 as decimal(18, 2)) as gmv from marts.average_order_value as aov "
            "cross join (values ('a'), ('b'), ('c'), ('d')) as channels(channel_code)"
        )
        con.execute("create table quarantine.rejected_rows as select 'mall_orders' as source")
        con.execute("create table raw.mall_users as select '13800000001' as phone")
    return str(path)


def make_work_db(source: str, target: Path, gmv_bump: str | None = None) -> Path:
    """A copy of a working database; with `gmv_bump`, every gmv of two marts is raised."""
    shutil.copy(source, target)
    if gmv_bump:
        with duckdb.connect(str(target)) as con:
            con.execute(f"update marts.average_order_value set gmv = gmv + {gmv_bump}")
            con.execute(f"update marts.channel_performance set gmv = gmv + {gmv_bump} / 4")
    return target


@pytest.mark.integration
def test_stale_wal_of_a_crashed_writer_is_never_replayed(
    tmp_path: Path, small_work_db: str
) -> None:
    serving = tmp_path / "siyu.duckdb"
    # a writer that opened the serving path directly and crashed, leaving its WAL behind
    crash = textwrap.dedent(f"""
        import duckdb, os
        con = duckdb.connect({str(serving)!r})
        con.execute("pragma disable_checkpoint_on_shutdown")
        con.execute("create schema marts")
        con.execute("create table marts.average_order_value as select 1 as gmv")
        con.execute("checkpoint")
        con.execute("insert into marts.average_order_value values (999)")
        os._exit(0)
    """)
    subprocess.run([sys.executable, "-c", crash], check=True)
    assert Path(f"{serving}.wal").exists()
    publish_serving_file(small_work_db, serving, "v1.1.0")
    assert not Path(f"{serving}.wal").exists()
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute("select count(*) from marts.average_order_value").fetchone() == (5,)
        # marts and quarantine only: no raw data reaches the serving file
        assert con.execute(
            "select distinct schema_name from duckdb_tables() order by all"
        ).fetchall() == [("marts",), ("quarantine",)]


@pytest.mark.integration
def test_abandoned_temporary_files_are_cleaned_up(tmp_path: Path, small_work_db: str) -> None:
    serving = tmp_path / "serving" / "siyu.duckdb"
    serving.parent.mkdir()
    leftover = serving.parent / ".siyu.duckdb.0123abcd.tmp"
    leftover.write_bytes(b"half-written by a killed publish")
    publish_serving_file(small_work_db, serving, "v1.1.0")
    assert not leftover.exists()
    assert sorted(p.name for p in serving.parent.iterdir()) == ["siyu.duckdb"]


READER = (
    textwrap.dedent("""
    import json, sys, time, duckdb
    path, seconds, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    states, errors, queries = set(), [], 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            con = duckdb.connect(path, read_only=True)
            for _ in range(3):
                a, b = con.execute(%r).fetchone()
                states.add((str(a), str(b)))
                queries += 1
            con.close()
        except Exception as error:
            errors.append(repr(error))
    with open(out, "w") as f:
        json.dump([sorted(states), errors, queries], f)
""")
    % GMV_PAIR_SQL
)


@pytest.mark.integration
def test_readers_in_other_processes_see_old_or_new_state_never_an_error(
    tmp_path: Path, small_work_db: str
) -> None:
    state_a = make_work_db(small_work_db, tmp_path / "a.work.duckdb")
    state_b = make_work_db(small_work_db, tmp_path / "b.work.duckdb", "4.00")
    serving = tmp_path / "serving" / "siyu.duckdb"
    publish_serving_file(state_a, serving, "v1.1.0")
    expected = set()
    for state in (state_a, state_b):
        with duckdb.connect(str(state), read_only=True) as con:
            a, b = con.execute(GMV_PAIR_SQL).fetchone()
            expected.add((str(a), str(b)))
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(serving), "8", str(tmp_path / f"reader{i}.txt")]
        )
        for i in range(2)
    ]
    time.sleep(1.0)
    publishes = 0
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline:
        publish_serving_file(state_b if publishes % 2 == 0 else state_a, serving, "v1.1.0")
        publishes += 1
    for reader in readers:
        assert reader.wait(timeout=60) == 0
    assert publishes >= 3
    for i in range(2):
        states, errors, queries = json.loads((tmp_path / f"reader{i}.txt").read_text())
        states = [tuple(state) for state in states]
        assert errors == []
        assert queries > 10
        assert set(states) <= expected  # never a mix of the two states
        assert all(a == b for a, b in states)


@pytest.mark.e2e
def test_killed_refresh_leaves_a_readable_serving_file(
    tmp_path: Path, fixture_run: PipelineRun
) -> None:

    landing = tmp_path / "landing"
    shutil.copytree(FIXTURE_LANDING, landing)
    warehouse = tmp_path / "warehouse" / "siyu.duckdb"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SIYU_")}
    environment |= {"SIYU_PII_SALT": TEST_SALT, "SIYU_MAX_QUARANTINE_SHARE": "0.5"}
    command = [
        sys.executable,
        "-m",
        "orchestration.cli",
        "refresh",
        "--landing",
        str(landing),
        "--warehouse",
        str(warehouse),
    ]
    # start from the fixture's refreshed state (the serving file and its working database)
    warehouse.parent.mkdir(parents=True)
    shutil.copyfile(fixture_run.settings.warehouse_path, warehouse)
    shutil.copyfile(fixture_run.settings.work_db_path, warehouse.parent / "siyu.work.duckdb")
    for delay in (1.5, 4.5, 8.0):
        (landing / "mall" / "orders" / "2026-11-02.csv").touch()
        process = subprocess.Popen(
            command,
            env=environment | {"SIYU_PII_SALT": f"s{delay}"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(delay)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        with duckdb.connect(str(warehouse), read_only=True) as con:
            assert con.execute("select count(*) from marts.kpi_scorecard").fetchone() == (
                198,
            )  # 33 days x 6 KPIs
    last = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600)
    assert last.returncode == 0, last.stderr
    with duckdb.connect(str(warehouse), read_only=True) as con:
        total = con.execute("select sum(gmv) from marts.average_order_value").fetchone()
    assert total == (Decimal("4804.99"),)
