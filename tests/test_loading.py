"""The loader: files into raw tables, quarantine and bookkeeping, on a real DuckDB."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from ingestion.loading import load_source
from ingestion.schemas import DISTRIBUTOR_ROSTER, MALL_USERS, MALL_VISITS
from tests.helpers import FIXTURE_LANDING

pytestmark = pytest.mark.integration

VISITS_HEADER = "session_id,user_id,started_at,channel_code,page_views\n"


def land(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def quarantined(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select file, row_number, reason, raw_record from quarantine.rejected_rows order by all"
    ).fetchall()


def test_conflicting_duplicates_within_a_file(tmp_path: Path) -> None:
    land(
        tmp_path,
        "mall/visits/2026-11-01.csv",
        VISITS_HEADER
        + "s1,u1,2026-11-01T00:00:00,,3\n"
        + "s1,u1,2026-11-01T00:00:00,,3\n"  # exact duplicate: kept here, collapsed in dbt
        + "s1,u2,2026-11-01T00:00:00,,3\n",  # same key, other content: quarantined
    )
    with duckdb.connect(":memory:") as con:
        report = load_source(con, tmp_path, MALL_VISITS, "Asia/Shanghai", "salt")
        assert (report.rows_landed, report.rows_loaded, report.rows_rejected) == (3, 2, 1)
        [(file, row, reason, record)] = quarantined(con)
        assert (file, row) == ("mall/visits/2026-11-01.csv", 3)
        assert "conflicting duplicate of session_id" in reason and "an earlier row" in reason
        # the record as it landed, like every other rejected row of the file
        assert json.loads(record) == {
            "session_id": "s1",
            "user_id": "u2",
            "started_at": "2026-11-01T00:00:00",
            "channel_code": None,
            "page_views": "3",
        }
        assert con.execute("select count(*) from raw.mall_visits").fetchall() == [(2,)]


def test_the_first_occurrence_wins_across_files_whatever_the_load_order(tmp_path: Path) -> None:
    land(tmp_path, "mall/visits/2026-11-02.csv", VISITS_HEADER + "s1,u2,2026-11-02T09:00:00,,1\n")
    with duckdb.connect(":memory:") as con:
        load_source(con, tmp_path, MALL_VISITS, "Asia/Shanghai", "salt")
        assert quarantined(con) == []
        # the earlier day lands later: its row is the first occurrence, the later file's loses
        land(
            tmp_path, "mall/visits/2026-11-01.csv", VISITS_HEADER + "s1,u1,2026-11-01T09:00:00,,3\n"
        )
        load_source(con, tmp_path, MALL_VISITS, "Asia/Shanghai", "salt")
        [(file, row, reason, _)] = quarantined(con)
        assert (file, row) == ("mall/visits/2026-11-02.csv", 1) and "an earlier file" in reason
        assert con.execute(
            "select file, rows_loaded, rows_rejected from raw.landed_files order by file"
        ).fetchall() == [
            ("mall/visits/2026-11-01.csv", 1, 0),
            ("mall/visits/2026-11-02.csv", 0, 1),
        ]
        assert con.execute("select user_id from raw.mall_visits").fetchall() == [("u1",)]


def test_a_key_unique_within_a_file_may_repeat_in_another(tmp_path: Path) -> None:
    header = "distributor_id,name,parent_distributor_id,tier,joined_at,status\n"
    land(tmp_path, "distributors/roster/2026-11-01.csv", header + "A1,Alpha,,gold,,active\n")
    land(
        tmp_path,
        "distributors/roster/2026-11-08.csv",
        header + "A1,Alpha,,silver,,active\nA1,Alpha,,gold,,active\n",
    )
    with duckdb.connect(":memory:") as con:
        report = load_source(con, tmp_path, DISTRIBUTOR_ROSTER, "Asia/Shanghai", "salt")
        # a snapshot repeats every distributor; within one snapshot the first row wins
        assert (report.rows_loaded, report.rows_rejected) == (2, 1)
        [(file, row, reason, _)] = quarantined(con)
        assert (file, row) == ("distributors/roster/2026-11-08.csv", 2) and "earlier row" in reason


def test_without_a_salt_phone_is_dropped() -> None:
    # the loader is where phone numbers are hashed or dropped: no need for a whole refresh
    with duckdb.connect(":memory:") as con:
        report = load_source(con, FIXTURE_LANDING, MALL_USERS, "Asia/Shanghai", pii_salt="")
        assert report.rows_loaded == 7  # 7 rows in the users files: 001 .. 006, 002 twice
        assert con.execute("select count(phone_hash) from raw.mall_users").fetchone()[0] == 0


def test_a_gb18030_file_is_found_out_past_its_first_64_kib(tmp_path: Path) -> None:
    # Python looks at the start of a file only; DuckDB's reader refuses the rest as not UTF-8,
    # and the file is then decoded whole: GB18030, loaded with its Chinese text intact.
    ascii_rows = "".join(f"s{n},u{n},2026-11-01T00:00:00,oa_menu,1\n" for n in range(3000))
    late_chinese = "s_late,u_late,2026-11-01T00:00:00,公众号,2\n"
    assert len((VISITS_HEADER + ascii_rows).encode()) > 1 << 16
    path = tmp_path / "mall/visits/2026-11-01.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes((VISITS_HEADER + ascii_rows + late_chinese).encode("gb18030"))
    land(tmp_path, "mall/visits/2026-11-02.csv", VISITS_HEADER + "s_next,u1,2026-11-02,,1\n")
    with duckdb.connect(":memory:") as con:
        report = load_source(con, tmp_path, MALL_VISITS, "Asia/Shanghai", "salt")
        assert (report.files_loaded, report.rows_loaded, report.rows_rejected) == (2, 3002, 0)
        assert con.execute(
            "select channel_code, _row_number from raw.mall_visits where session_id = 's_late'"
        ).fetchall() == [("公众号", 3001)]
        assert con.execute(
            "select file, encoding from raw.landed_files order by file"
        ).fetchall() == [
            ("mall/visits/2026-11-01.csv", "gb18030"),
            ("mall/visits/2026-11-02.csv", "utf-8"),
        ]
