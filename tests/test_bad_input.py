"""Every class of bad input in spec/sources.md, through the real `siyu refresh` command.

Each case runs twice: on a new working database (a brand's first refresh, with no serving file
yet) and on the good fixture run's working and serving databases (a complete build before). It
lands bad files and refreshes: the exit status, the message, the quarantine and the serving file
(untouched, byte for byte, or still absent, when a gate fails) are checked.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import main
from tests.helpers import FIXTURE_LANDING, TEST_SALT, PipelineRun

pytestmark = pytest.mark.e2e

ORDER_HEADER = (
    "order_id,user_id,created_at,paid_at,status,channel_code,distributor_id,activity_code,"
    "item_count,gross_amount,discount_amount,paid_amount,refund_amount,refunded_at,updated_at"
)


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Workspace:
    landing: Path
    warehouse: Path
    work_db: Path

    def refresh(self, *extra: str, share: str = "0.5") -> Completed:
        """`siyu refresh` in this process (test_cli.py runs it as a separate process)."""
        saved = {k: v for k, v in os.environ.items() if k.startswith("SIYU_")}
        for key in saved:
            del os.environ[key]
        os.environ |= {"SIYU_PII_SALT": TEST_SALT, "SIYU_MAX_QUARANTINE_SHARE": share}
        out, err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(
                    [
                        "refresh",
                        "--landing",
                        str(self.landing),
                        "--warehouse",
                        str(self.warehouse),
                        "--work-db",
                        str(self.work_db),
                        *extra,
                    ]
                )
        finally:
            for key in [k for k in os.environ if k.startswith("SIYU_")]:
                del os.environ[key]
            os.environ |= saved
        return Completed(code, out.getvalue(), err.getvalue())

    def serving_fingerprint(self) -> tuple[int, str] | None:
        if not self.warehouse.exists():
            return None  # a first refresh that fails publishes nothing
        return self.warehouse.stat().st_ino, hashlib.sha256(self.warehouse.read_bytes()).hexdigest()

    def work(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.work_db), read_only=True) as con:
            return con.execute(sql).fetchall()

    def serving(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql).fetchall()


@pytest.fixture(params=["first_refresh", "after_a_complete_build"])
def workspace(request: pytest.FixtureRequest, tmp_path: Path) -> Workspace:
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURE_LANDING, landing)
    warehouse_dir = tmp_path / "warehouse"
    if request.param == "after_a_complete_build":
        fixture_run: PipelineRun = request.getfixturevalue("fixture_run")
        shutil.copytree(Path(fixture_run.settings.warehouse_path).parent, warehouse_dir)
    return Workspace(landing, warehouse_dir / "siyu.duckdb", warehouse_dir / "siyu.work.duckdb")


def assert_gate_failed(
    ws: Workspace, before: tuple[int, str] | None, result: Completed, *fragments: str
) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Refresh FAILED; the serving file was not replaced." in result.stderr
    summary = result.stderr.split("Refresh FAILED", 1)[1]
    for fragment in fragments:
        assert fragment in summary, f"{fragment!r} not in the failure summary:\n{summary}"
    assert "Traceback" not in summary
    assert ws.serving_fingerprint() == before, "the serving file changed although a gate failed"


BAD_FILES = {
    "wechat_error_body": (
        "wechat_oa/user_summary/2026-11-02.json",
        b'{"errcode": 61501, "errmsg": "date range error"}',
        [
            "wechat_oa_user_summary 2026-11-02",
            "quality_gate",
            "wechat_oa/user_summary/2026-11-02.json",
            "WeChat error body (errcode 61501",
        ],
    ),
    "truncated_json": (
        "wechat_oa/article_total/2026-11-03.json",
        b'{"list": [{"ref_date": "2026-10-31", "msgid": "101_1", "details": [{"stat_da',
        [
            "wechat_oa_article_total 2026-11-03",
            "wechat_oa/article_total/2026-11-03.json",
            "not valid JSON",
        ],
    ),
    "missing_column": (
        "mall/orders/2026-11-02.csv",
        (ORDER_HEADER.replace(",paid_amount", "") + "\n").encode(),
        [
            "mall_orders 2026-11-02",
            "mall/orders/2026-11-02.csv",
            "required column(s) missing: paid_amount",
        ],
    ),
    "undecodable_bytes": (
        "mall/visits/2026-11-02.csv",
        b"session_id,user_id,started_at,channel_code,page_views\ns9,001,2026-11-02T10:00:00,"
        b"\x81\x20\xff,1\n",
        ["mall_visits 2026-11-02", "mall/visits/2026-11-02.csv", "neither valid UTF-8 nor GB18030"],
    ),
    "empty_file": (
        "channels/spend/2026-11-03.csv",
        b"",
        ["channels_spend 2026-11-03", "channels/spend/2026-11-03.csv", "empty (0 bytes)"],
    ),
    "not_valid_csv": (
        "distributors/roster/2026-11-01.csv",
        b'distributor_id,name,parent_distributor_id,tier,joined_at,status\nA1,"Alpha,,gold,,active\n',
        ["distributors_roster 2026-11-01", "distributors/roster/2026-11-01.csv", "not a valid CSV"],
    ),
    "file_name_not_a_date": (
        "mall/users/users_latest.csv",
        b"user_id,registered_at,channel_code,referrer_distributor_id,phone,city\n",
        ["mall_users whole file", "mall/users/users_latest.csv", "is not a date"],
    ),
}


def test_bad_files_are_rejected_and_block_the_refresh(workspace: Workspace) -> None:
    # one bad file per source, landed together: each source's gate fails on its own file
    before = workspace.serving_fingerprint()
    for relative, content, _ in BAD_FILES.values():
        (workspace.landing / relative).write_bytes(content)
    result = workspace.refresh()
    assert_gate_failed(
        workspace,
        before,
        result,
        *[fragment for _, _, fragments in BAD_FILES.values() for fragment in fragments],
    )
    rejected = workspace.work("select file, reason from quarantine.rejected_files order by file")
    assert [file for file, _ in rejected] == sorted(path for path, _, _ in BAD_FILES.values())
    for case, (relative, _, fragments) in BAD_FILES.items():
        # none of a bad file's rows load
        assert workspace.work(
            f"select rows_loaded, status from raw.landed_files where file = '{relative}'"
        ) == [(0, "rejected")], case
        assert any(file == relative and fragments[-1] in reason for file, reason in rejected), case


def test_relanding_a_fixed_file_repairs_the_day(workspace: Workspace) -> None:
    relative = "wechat_oa/user_summary/2026-11-02.json"
    good = (workspace.landing / relative).read_bytes()
    before = workspace.serving_fingerprint()
    (workspace.landing / relative).write_bytes(b'{"errcode": 45009, "errmsg": "api freq limit"}')
    assert_gate_failed(workspace, before, workspace.refresh(), "errcode 45009")
    (workspace.landing / relative).write_bytes(good)
    repaired = workspace.refresh()
    assert repaired.returncode == 0, repaired.stderr
    assert workspace.work("select count(*) from quarantine.rejected_files") == [(0,)]
    assert workspace.serving(
        "select new_followers from marts.follower_growth where date = '2026-11-02'"
    ) == [(7,)]


def test_duplicates_are_quarantined_and_header_only_files_are_empty_days(
    workspace: Workspace,
) -> None:

    landing = workspace.landing
    # s6 was first landed on 10-31 (001, qr): the same key with other values is a conflicting
    # duplicate of an earlier file; s9 is new
    (landing / "mall" / "visits" / "2026-11-03.csv").write_text(
        "session_id,user_id,started_at,channel_code,page_views\n"
        "s6,002,2026-11-03T09:00:00,kol,9\n"
        "s9,002,2026-11-03T10:00:00,kol,2\n"
    )
    # (date, channel_code) of spend is unique: the second qr row conflicts, the third is a copy
    (landing / "channels" / "spend" / "2026-11-03.csv").write_text(
        "date,channel_code,spend,impressions,clicks\n"
        "2026-11-03,qr,5.00,100,1\n"
        "2026-11-03,qr,6.00,100,1\n"
        "2026-11-03,qr,5.00,100,1\n"
        "2026-11-03,kol,7.00,100,1\n"
    )
    # a file with only the header row is a valid day with no rows
    (landing / "mall" / "orders" / "2026-11-03.csv").write_text(ORDER_HEADER + "\n")
    result = workspace.refresh()
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert workspace.work("select count(*) from quarantine.rejected_files") == [(0,)]
    assert workspace.work(
        "select file, row_number, reason from quarantine.rejected_rows "
        "where file_date = '2026-11-03' order by file, row_number"
    ) == [
        (
            "channels/spend/2026-11-03.csv",
            2,
            "conflicting duplicate of date, channel_code: an earlier row has the same key with "
            "other values (the first one is kept)",
        ),
        (
            "mall/visits/2026-11-03.csv",
            1,
            "conflicting duplicate of session_id: an earlier file has the same key with other "
            "values (the first one is kept)",
        ),
    ]
    assert workspace.work(
        "select file, rows_landed, rows_loaded, rows_rejected from raw.landed_files "
        "where file_date = '2026-11-03' and source not like 'wechat_oa_article%' order by file"
    ) == [
        ("channels/spend/2026-11-03.csv", 4, 3, 1),
        ("mall/orders/2026-11-03.csv", 0, 0, 0),
        ("mall/visits/2026-11-03.csv", 2, 1, 1),
    ]
    # the first occurrences reached the marts: s6 stays 001's visit of 10-31, qr spent 5.00
    assert workspace.serving(
        "select date, channel_code, spend, visitors from marts.channel_performance "
        "where date in ('2026-10-31', '2026-11-03') and channel_code in ('qr', 'kol') "
        "order by date, channel_code"
    ) == [
        (date(2026, 10, 31), "kol", Decimal("100.00"), 0),
        (date(2026, 10, 31), "qr", Decimal("0.00"), 2),
        (date(2026, 11, 3), "kol", Decimal("7.00"), 1),
        (date(2026, 11, 3), "qr", Decimal("5.00"), 0),
    ]


def order_row(i: int) -> str:
    return (
        f"N{i:04d},{100 + i},2026-11-03T10:00:00+08:00,2026-11-03T10:01:00+08:00,paid,qr,,,1,"
        f"10.00,0.00,10.00,0.00,,2026-11-03T10:01:00+08:00"
    )


BAD_ORDER_ROWS = {
    "missing key": (
        ",u1,2026-11-03T10:00:00,,pending,qr,,,1,1.00,0.00,0.00,0.00,,2026-11-03T10:00:00",
        "order_id is missing",
    ),
    "unparseable timestamp": (
        "B2,u1,yesterday,,pending,qr,,,1,1.00,0.00,0.00,0.00,,2026-11-03T10:00:00",
        "created_at 'yesterday' is not an ISO 8601",
    ),
    "unparseable amount": (
        "B3,u1,2026-11-03T10:00:00,,pending,qr,,,1,ten,0.00,0.00,0.00,,2026-11-03T10:00:00",
        "gross_amount 'ten' is not an amount",
    ),
    "negative amount": (
        "B4,u1,2026-11-03T10:00:00,,pending,qr,,,1,-1.00,0.00,0.00,0.00,,2026-11-03T10:00:00",
        "gross_amount is negative",
    ),
    "unknown status": (
        "B5,u1,2026-11-03T10:00:00,,lost,qr,,,1,1.00,0.00,0.00,0.00,,2026-11-03T10:00:00",
        "status 'lost' is not one of",
    ),
    "refund above paid": (
        "B6,u1,2026-11-03T10:00:00,2026-11-03T10:00:00,refunded,qr,,,1,"
        "1.00,0.00,1.00,2.00,2026-11-03T11:00:00,2026-11-03T11:00:00",
        "refund_amount is greater than paid_amount",
    ),
}


def test_bad_rows_are_quarantined_and_good_rows_load(workspace: Workspace) -> None:
    good_rows = [order_row(i) for i in range(150)]
    bad_rows = [row for row, _ in BAD_ORDER_ROWS.values()]
    path = workspace.landing / "mall" / "orders" / "2026-11-03.csv"
    path.write_text("\n".join([ORDER_HEADER, *good_rows, *bad_rows]) + "\n")
    # 6 of 156 rows = 3.8 %: under the default limit (only this day is in the window)
    result = workspace.refresh("--date", "2026-11-03", share="0.05")
    assert result.returncode == 0, result.stderr
    quarantined = workspace.work(
        "select row_number, reason, raw_record from quarantine.rejected_rows "
        "where file = 'mall/orders/2026-11-03.csv' order by row_number"
    )
    assert [row for row, _, _ in quarantined] == list(range(151, 157))
    for (_, reason, raw_record), (kind, (_, expected)) in zip(
        quarantined, BAD_ORDER_ROWS.items(), strict=True
    ):
        assert expected in reason, kind
        assert raw_record.startswith("{")
    assert workspace.work(
        "select rows_landed, rows_loaded, rows_rejected from raw.landed_files "
        "where file = 'mall/orders/2026-11-03.csv'"
    ) == [(156, 150, 6)]
    # the good rows reached the marts, and the rejects reached the serving file's quarantine
    assert workspace.serving(
        "select paid_orders, gmv from marts.average_order_value where date = '2026-11-03'"
    ) == [(150, Decimal("1500.00"))]
    assert workspace.serving(
        "select count(*) from quarantine.rejected_rows where file = 'mall/orders/2026-11-03.csv'"
    ) == [(6,)]


def test_share_of_bad_rows_above_the_limit_blocks(workspace: Workspace) -> None:
    rows = [order_row(i) for i in range(10)] + [BAD_ORDER_ROWS["unknown status"][0]]
    (workspace.landing / "mall" / "orders" / "2026-11-03.csv").write_text(
        "\n".join([ORDER_HEADER, *rows]) + "\n"
    )
    before = workspace.serving_fingerprint()
    result = workspace.refresh("--date", "2026-11-03", share="0.05")
    assert_gate_failed(
        workspace,
        before,
        result,
        "mall_orders 2026-11-03",
        "1 of 11 rows quarantined (9.1% > limit 5%)",
        "mall/orders/2026-11-03.csv row 11: status 'lost' is not one of",
    )
