"""Incremental refreshes: after files change, refreshing only the changed days gives exactly the
marts of a full rebuild from scratch.

The changes are the hard cases of an incremental daily run: a re-landed orders file with fewer
rows (O1's partial refund of 11-02 disappears), a late refund that moves an order's whole
cumulative refund to a later date (O7: 20.00 on 11-02 becomes 50.00 on 11-03), a refund of an
order paid days earlier (O5), a user whose acquisition channel changes (001: qr → ghost, which
applies to every date they were active), a re-landed visits file with fewer rows and a re-landed
roster snapshot (C1 bronze → silver from 11-01: O5, paid 11-01, now earns commissions).
For the per-user growth models: a late export of an order paid before a buyer's first one (O16:
002's first paid order moves from O2, 10-31, to it, 10-30), an order that changes buyer (O4:
004 → 003, so 004 is no buyer any more) and a late session on a new user's day +1 (004, 11-02).
"""

from __future__ import annotations

import shutil
from datetime import date
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

ORDERS_HEADER = (
    "order_id,user_id,created_at,paid_at,status,channel_code,distributor_id,activity_code,"
    "item_count,gross_amount,discount_amount,paid_amount,refund_amount,refunded_at,updated_at\n"
)
LATE_ORDERS = ORDERS_HEADER + (
    "O7,002,2026-11-02T10:00:00+08:00,2026-11-02T10:05:00+08:00,partially_refunded,kol,,,4,"
    "120.00,0.00,120.00,50.00,2026-11-03T11:00:00+08:00,2026-11-03T11:00:00+08:00\n"
    "O5,001,2026-11-01T20:00:00+08:00,2026-11-01T20:05:00+08:00,refunded,qr,C1,coupon,2,"
    "40.00,5.00,35.00,35.00,2026-11-03T12:00:00+08:00,2026-11-03T12:00:00+08:00\n"
    "O16,002,2026-10-30T20:00:00+08:00,2026-10-30T20:10:00+08:00,paid,kol,,bargain,1,"
    "30.00,5.00,25.00,0.00,,2026-11-03T09:00:00+08:00\n"
    "O4,003,2026-11-01T09:30:00,2026-11-01T09:31:00,paid,ghost,B1,flash_sale,1,"
    "99.99,0.00,99.99,0.00,,2026-11-03T13:00:00+08:00\n"
)
LATE_SESSION = (
    "session_id,user_id,started_at,channel_code,page_views\n"
    "s20,004,2026-11-02T09:00:00+08:00,ghost,3\n"
)
CHANNEL_CHANGE = (
    "user_id,registered_at,channel_code,referrer_distributor_id,phone,city\n"
    "001,2026-10-30T10:00:00+08:00,ghost,,13800000001,上海\n"
)


def land_the_next_day(landing: Path) -> None:
    """11-03's files: late refunds of earlier orders and a user's new channel; and, as the
    WeChat fetch of 11-03 does, the user data of the 3 days before fetched again: WeChat
    revised 11-01's (no change before, 4 new followers now)."""
    (landing / "mall" / "orders" / "2026-11-03.csv").write_text(LATE_ORDERS)
    (landing / "mall" / "users" / "2026-11-03.csv").write_text(CHANNEL_CHANGE, encoding="utf-8")
    (landing / "mall" / "visits" / "2026-11-03.csv").write_text(LATE_SESSION)
    (landing / "wechat_oa" / "user_summary" / "2026-11-01.json").write_text(
        '{"list": [{"ref_date": "2026-11-01", "user_source": 1, "new_user": 4, "cancel_user": 0}]}'
    )


def reland_earlier_days(landing: Path) -> None:
    """Corrected exports of earlier days, two of them with fewer rows."""
    orders = landing / "mall" / "orders" / "2026-11-02.csv"
    kept = [line for line in orders.read_text().splitlines(True) if not line.startswith("O1,")]
    orders.write_text("".join(kept))
    roster = landing / "distributors" / "roster" / "2026-11-01.csv"
    roster.write_text(roster.read_text().replace("C1,Gamma,B1,bronze", "C1,Gamma,B1,silver"))
    visits = landing / "mall" / "visits" / "2026-10-31.csv"
    visits.write_bytes(b"".join(visits.read_bytes().splitlines(True)[:-1]))


def marts_query(warehouse_path: str, sql: str) -> dict:
    with duckdb.connect(warehouse_path, read_only=True) as con:
        return {str(key): str(value) for key, value in con.execute(sql).fetchall()}


REFUNDS = "select date, refunds from marts.average_order_value where refunds > 0"
REGISTERED_ON_11_03 = (
    "select channel_code, registered_users from marts.daily_active_rate_by_channel "
    "where date = '2026-11-03' and registered_users > 0"
)
NEW_FOLLOWERS_ON_11_01 = (
    "select date, new_followers from marts.follower_growth where date = '2026-11-01'"
)
NEW_BUYERS = (
    "select date || ' ' || activity_code, new_buyers from marts.activity_performance "
    "where new_buyers > 0"
)
FIRST_PAID = "select user_id, first_paid_date from marts.customer_segments"
RETAINED_D1 = "select cohort_date, retained_d1 from marts.user_retention where retained_d1 > 0"
ACTIVE_ON_10_31 = (
    "select channel_code, active_users from marts.daily_active_rate_by_channel "
    "where date = '2026-10-31' and active_users > 0"
)


def pending_changes(work_db_path: str) -> int:
    with duckdb.connect(work_db_path, read_only=True) as con:
        return con.execute("select count(*) from raw.pending_changes").fetchone()[0]


def test_refreshing_the_changed_days_matches_a_full_rebuild(
    tmp_path: Path, fixture_run: PipelineRun
) -> None:

    # the fixture's refreshed state, copied, then files change in its landing folder
    incremental = tmp_path / "incremental"
    landing = incremental / "landing"
    shutil.copytree(FIXTURE_LANDING, landing)
    settings = make_settings(incremental, landing)
    Path(settings.work_db_path).parent.mkdir(parents=True)
    shutil.copyfile(fixture_run.settings.work_db_path, settings.work_db_path)
    shutil.copyfile(fixture_run.settings.warehouse_path, settings.warehouse_path)
    before = mart_contents(settings.warehouse_path)
    assert pending_changes(settings.work_db_path) == 0

    # the daily run of the new day: refunds leave the dates they were booked on before, and
    # user 001's new channel applies to the dates of their registration and sessions
    land_the_next_day(landing)
    assert run_pipeline(settings, start=date(2026, 11, 3), end=date(2026, 11, 3)).success
    # O3 180.00 stays on 11-01; O7's 20.00 leaves 11-02 (O1's 30.00 stays) for 11-03, where the
    # cumulative 50.00 and O5's 35.00 are booked
    assert marts_query(settings.warehouse_path, REFUNDS) == {
        "2026-11-01": "180.00",
        "2026-11-02": "30.00",
        "2026-11-03": "85.00",
    }
    assert marts_query(settings.warehouse_path, REGISTERED_ON_11_03) == {
        "ghost": "2",  # 001 (was qr) and 004
        "qr": "1",  # 002
        "unknown": "1",  # 003
    }
    # 001's sessions of 10-31 (s4, s6) now count for ghost; 003 is unknown
    assert marts_query(settings.warehouse_path, ACTIVE_ON_10_31) == {"ghost": "1", "unknown": "1"}
    # O16 (bargain, 10-30) is 002's first paid order now, not O2 (none, 10-31); O4 is 003's
    # first, so 004 is no buyer; 004's late session of 11-02 is their day +1
    assert marts_query(settings.warehouse_path, NEW_BUYERS) == {
        "2026-10-30 none": "1",  # 001's O1
        "2026-10-30 bargain": "1",
        "2026-10-31 group_buy": "1",  # 099's O3
        "2026-11-01 flash_sale": "1",
        "2026-12-01 bargain": "1",  # 005's O10
        "2026-12-01 coupon": "1",  # 006's O14
    }
    first_paid = marts_query(settings.warehouse_path, FIRST_PAID)
    assert (first_paid["002"], first_paid["003"]) == ("2026-10-30", "2026-11-01")
    assert "004" not in first_paid
    assert marts_query(settings.warehouse_path, RETAINED_D1) == {
        "2026-10-30": "1",  # 001
        "2026-11-01": "1",  # 004
    }
    # the refresh of 11-03 also loaded the revised user data of the day before yesterday
    assert marts_query(settings.warehouse_path, NEW_FOLLOWERS_ON_11_01) == {"2026-11-01": "4"}

    # a run over the days whose files were re-landed
    reland_earlier_days(landing)
    assert run_pipeline(settings, start=date(2026, 10, 31), end=date(2026, 11, 2)).success
    assert marts_query(settings.warehouse_path, REFUNDS) == {
        "2026-11-01": "180.00",
        "2026-11-03": "85.00",
    }
    after = mart_contents(settings.warehouse_path)
    assert pending_changes(settings.work_db_path) == 0

    rebuilt = tmp_path / "rebuilt"
    shutil.copytree(landing, rebuilt / "landing")
    rebuilt_settings = make_settings(rebuilt, rebuilt / "landing")
    assert run_pipeline(rebuilt_settings).success
    full = mart_contents(rebuilt_settings.warehouse_path)
    for mart in (
        "average_order_value",
        "daily_active_rate_by_channel",
        "order_conversion_by_channel",
        "distributor_commissions",
        "follower_growth",
        "activity_performance",
        "customer_segments",
        "user_retention",
    ):
        assert after[mart] != before[mart], f"the changes should show in {mart}"
    assert after == full
