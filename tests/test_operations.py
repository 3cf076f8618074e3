"""Schedule, sensor and freshness logic, with Dagster's test APIs."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from dagster import (
    Definitions,
    RunRequest,
    SkipReason,
    build_schedule_context,
    build_sensor_context,
)

from ingestion.schemas import MALL_ORDERS
from orchestration.definitions import build_definitions
from orchestration.operations.freshness import expected_latest_day, freshness_result, missing_days
from orchestration.operations.sensors import evaluate_landing
from orchestration.settings import SiyuSettings
from tests.helpers import FIXTURE_LANDING, make_settings

pytestmark = pytest.mark.unit


def definitions_in(tmp_path: Path, business_timezone: str = "Asia/Shanghai") -> Definitions:
    return build_definitions(
        make_settings(tmp_path, FIXTURE_LANDING, business_timezone=business_timezone)
    )


def test_schedule_refreshes_yesterday_at_half_past_eight_in_shanghai(tmp_path: Path) -> None:
    daily_refresh_schedule = definitions_in(tmp_path).resolve_schedule_def("daily_refresh")
    # WeChat's data for yesterday is ready after 08:00
    assert daily_refresh_schedule.cron_schedule == "30 8 * * *"
    assert daily_refresh_schedule.execution_timezone == "Asia/Shanghai"
    # 2026-11-22 08:30 in Shanghai is 2026-11-22 00:30 UTC
    context = build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 22, 0, 30, tzinfo=UTC)
    )
    requests = list(daily_refresh_schedule.evaluate_tick(context).run_requests or [])
    assert [r.partition_key for r in requests] == ["2026-11-21"]


def settings_for(landing: Path) -> SiyuSettings:
    return make_settings(landing.parent / "unused", landing)


def evaluate(landing: Path, cursor: str | None) -> tuple[RunRequest | SkipReason, str | None]:
    context = build_sensor_context(cursor=cursor)
    result = evaluate_landing(context, settings_for(landing))
    return result, context.cursor


def test_sensor_requests_one_run_for_new_and_relanded_files(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURE_LANDING, landing)
    first, cursor = evaluate(landing, None)
    assert isinstance(first, RunRequest)
    assert first.tags["dagster/asset_partition_range_start"] == "2026-10-30"
    assert first.tags["dagster/asset_partition_range_end"] == "2026-12-01"
    assert len(json.loads(cursor)) == len([p for p in landing.rglob("*") if p.is_file()])

    unchanged, cursor = evaluate(landing, cursor)
    assert isinstance(unchanged, SkipReason)

    orders = landing / "mall" / "orders" / "2026-11-01.csv"
    orders.touch()  # same content: not a change
    touched, cursor = evaluate(landing, cursor)
    assert isinstance(touched, SkipReason)

    orders.write_text(orders.read_text() + "\n")  # re-landed with other bytes
    (landing / "mall" / "visits" / "2026-11-04.csv").write_text(
        "session_id,user_id,started_at,channel_code,page_views\n"
    )
    changed, cursor = evaluate(landing, cursor)
    assert isinstance(changed, RunRequest)
    assert changed.tags["dagster/asset_partition_range_start"] == "2026-11-01"
    assert changed.tags["dagster/asset_partition_range_end"] == "2026-11-04"

    (landing / "channels" / "channels.csv").write_bytes(
        b"channel_code,channel_name,platform,launched_on\nqr,QR,offline_qr,\n"
    )
    registry, _ = evaluate(landing, cursor)
    assert isinstance(registry, RunRequest)
    assert registry.partition_key == "2026-12-01"  # the latest day, which rebuilds the marts


def test_sensor_skips_without_a_landing_folder(tmp_path: Path) -> None:
    result, _ = evaluate(tmp_path / "nowhere", None)
    assert isinstance(result, SkipReason)


def test_expected_latest_day_waits_for_eight_o_clock() -> None:
    # 07:59 in Shanghai: yesterday's WeChat data is not ready yet
    shanghai = "Asia/Shanghai"
    assert expected_latest_day(datetime(2026, 11, 21, 23, 59, tzinfo=UTC), shanghai) == date(
        2026, 11, 20
    )
    assert expected_latest_day(datetime(2026, 11, 22, 0, 0, tzinfo=UTC), shanghai) == date(
        2026, 11, 21
    )


def test_missing_days() -> None:
    present = {date(2026, 11, 1), date(2026, 11, 3)}
    assert missing_days(present, date(2026, 11, 4)) == [date(2026, 11, 2), date(2026, 11, 4)]
    assert missing_days(set(), date(2026, 11, 4)) == [date(2026, 11, 4)]


def test_freshness_warns_about_missing_days(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURE_LANDING, landing)
    result = freshness_result(
        MALL_ORDERS, landing, datetime(2026, 11, 4, 1, 0, tzinfo=UTC), "Asia/Shanghai"
    )
    assert result.passed is False
    assert result.severity.value == "WARN"
    assert result.description.startswith("mall_orders: 1 day(s) missing: 2026-11-03")
    fresh = freshness_result(
        MALL_ORDERS, landing, datetime(2026, 11, 2, 1, 0, tzinfo=UTC), "Asia/Shanghai"
    )
    assert fresh.passed is True


def test_roster_snapshots_are_expected_weekly(tmp_path: Path) -> None:
    from ingestion.schemas import DISTRIBUTOR_ROSTER

    landing = tmp_path / "landing"
    shutil.copytree(FIXTURE_LANDING, landing)  # snapshots of 2026-10-30 and 2026-11-01
    week_later = datetime(2026, 11, 8, 1, 0, tzinfo=UTC)  # expects up to 11-07
    assert freshness_result(DISTRIBUTOR_ROSTER, landing, week_later, "Asia/Shanghai").passed is True
    too_old = datetime(2026, 11, 9, 1, 0, tzinfo=UTC)  # expects a snapshot since 11-02
    assert freshness_result(DISTRIBUTOR_ROSTER, landing, too_old, "Asia/Shanghai").passed is False


def test_partitions_schedule_and_freshness_follow_the_business_time_zone(tmp_path: Path) -> None:
    # the settings' zone is the one definition: another zone moves all three
    defs = definitions_in(tmp_path, business_timezone="America/New_York")
    job = defs.resolve_job_def("siyu_refresh")
    assert job.partitions_def is not None and job.partitions_def.timezone == "America/New_York"
    schedule = defs.resolve_schedule_def("daily_refresh")
    assert schedule.execution_timezone == "America/New_York"
    # 2026-11-22 08:30 in New York is 13:30 UTC; it refreshes New York's yesterday
    context = build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 22, 13, 30, tzinfo=UTC)
    )
    requests = list(schedule.evaluate_tick(context).run_requests or [])
    assert [r.partition_key for r in requests] == ["2026-11-21"]
    # 2026-11-22 05:00 UTC: after 08:00 in Shanghai (11-21 is expected), 00:00 in New York
    now = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)
    assert expected_latest_day(now, "Asia/Shanghai") == date(2026, 11, 21)
    assert expected_latest_day(now, "America/New_York") == date(2026, 11, 20)
    check = next(c for c in defs.asset_checks or [] if "mall_orders" in str(c.check_keys))
    assert "America/New_York" in next(iter(check.check_specs)).description


def test_the_article_sources_may_be_absent_and_the_retired_one_is_not_expected(
    tmp_path: Path,
) -> None:
    from ingestion.schemas import ARTICLE_DETAIL, ARTICLE_TOTAL

    now = datetime(2026, 11, 4, 1, 0, tzinfo=UTC)  # expects files up to 11-03
    empty = tmp_path / "empty"
    empty.mkdir()
    for schema in (ARTICLE_TOTAL, ARTICLE_DETAIL):
        result = freshness_result(schema, empty, now, "Asia/Shanghai")
        assert result.passed and "no file has landed (an optional source)" in result.description
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURE_LANDING, landing)  # article_total's last fetch date is 11-03
    late = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)  # expects files up to 12-01
    assert not freshness_result(ARTICLE_TOTAL, landing, late, "Asia/Shanghai").passed
    detail = landing / "wechat_oa" / "article_detail"
    for offset in range(33):  # 10-30 .. 12-01, the fixture's own files among them
        path = detail / f"{date(2026, 10, 30) + timedelta(days=offset)}.json"
        if not path.exists():
            path.write_text('{"list": [], "is_delay": false}')
    # while getarticletotaldetail's files are up to date, the retired API is not expected
    replaced = freshness_result(ARTICLE_TOTAL, landing, late, "Asia/Shanghai")
    assert replaced.passed
    assert "replaced by wechat_oa_article_detail, which is up to date" in replaced.description
