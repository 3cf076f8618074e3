"""The WeChat connector end to end: the fetch assets in the refresh job (credentials from
EnvVars), the `siyu fetch wechat` command, and the marts of a refresh on what was fetched,
against figures computed from the fake API's own data (tests/fake_wechat.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, materialize
from pytest_httpserver import HTTPServer

from orchestration.fetch.assets import WeChatCredentials, build_fetch_assets
from orchestration.partitions import daily_partitions, last_complete_day
from tests.fake_wechat import (
    SOURCES,
    FakeWeChat,
    cumulate_of,
    detail_of,
    msgid_of,
    new_followers,
    publishes_on,
)
from tests.helpers import make_settings, rows, run_pipeline

pytestmark = pytest.mark.e2e

APPID = "wxPIPELINEAPPID77f"
SECRET = "siyu-pipeline-secret-Q8ZT-never-logged"
YESTERDAY = last_complete_day(datetime.now(tz=UTC), "Asia/Shanghai")


@pytest.fixture
def wechat(httpserver: HTTPServer) -> FakeWeChat:
    return FakeWeChat(httpserver, APPID, SECRET, yesterday=YESTERDAY)


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIYU_WECHAT_APPID", APPID)
    monkeypatch.setenv("SIYU_WECHAT_APPSECRET", SECRET)


def test_a_refresh_fetches_then_builds_marts_equal_to_wechats_figures(
    tmp_path: Path, wechat: FakeWeChat, credentials: None
) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()  # a brand's first day: nothing has landed yet
    settings = make_settings(tmp_path, landing, wechat_api_base=wechat.base_url)
    start, end = YESTERDAY - timedelta(days=2), YESTERDAY
    outcome = run_pipeline(settings, start=start, end=end, fetch_from_wechat=True)
    assert outcome.success, outcome.failure_lines
    summary = "\n".join(outcome.summary_lines)
    assert f"Fetched WeChat data for {start} .. {end}" in summary
    # one run for the three days: each call once (user spans of up to 7 days)
    assert len(wechat.calls_to("getusersummary")) == 1
    detail_dates = [c["begin_date"] for c in wechat.calls_to("getarticletotaldetail")]
    assert len(detail_dates) == len(set(detail_dates)) == 32
    with duckdb.connect(settings.warehouse_path, read_only=True) as con:
        growth = {r["date"]: r for r in rows(con, "select * from marts.follower_growth")}
        content = {r["msgid"]: r for r in rows(con, "select * from marts.content_performance")}
    # follower figures of every fetched day (the 3 days before the window included)
    for day in [start - timedelta(days=n) for n in range(3, 0, -1)] + [
        start,
        start + timedelta(1),
        end,
    ]:
        new = sum(new_followers(day, source)[0] for source in SOURCES)
        lost = sum(new_followers(day, source)[1] for source in SOURCES)
        assert (growth[day]["new_followers"], growth[day]["lost_followers"]) == (new, lost), day
        assert growth[day]["total_followers"] == cumulate_of(day), day
        if day > start - timedelta(days=3):
            expected = (new - lost) / cumulate_of(day - timedelta(days=1))
            assert growth[day]["growth_rate"] == pytest.approx(expected), day
    # every article published in the 30 days up to the window's end, at its latest detail
    published = [
        end - timedelta(days=n) for n in range(32) if publishes_on(end - timedelta(days=n))
    ]
    for publish in published:
        latest = min(publish + timedelta(days=29), end)
        figures = detail_of(publish, latest)
        row = content[msgid_of(publish)]
        assert row["source_api"] == "article_detail"  # in both APIs: article_detail wins
        assert row["stat_days"] == (latest - publish).days + 1
        assert (row["reads"], row["shares"], row["likes"]) == (
            figures["read_user"],
            figures["share_user"],
            figures["like_user"],
        ), publish
        assert row["open_rate"] == pytest.approx(figures["read_delivery_rate"])
        assert row["forward_rate"] == pytest.approx(figures["share_user"] / figures["read_user"])
    assert set(content) == {msgid_of(p) for p in published}


def test_without_credentials_the_fetch_is_skipped_and_the_rest_runs(tmp_path: Path) -> None:
    import shutil

    from tests.helpers import FIXTURE_LANDING

    landing = tmp_path / "landing"
    shutil.copytree(FIXTURE_LANDING, landing)
    settings = make_settings(tmp_path, landing)
    for name in ("SIYU_WECHAT_APPID", "SIYU_WECHAT_APPSECRET"):
        assert name not in os.environ
    outcome = run_pipeline(settings, end=date(2026, 11, 3), fetch_from_wechat=True)
    assert outcome.success, outcome.failure_lines
    assert (
        "WeChat fetch skipped: no WeChat credentials: set SIYU_WECHAT_APPID and "
        "SIYU_WECHAT_APPSECRET" in outcome.summary_lines[1]
    )
    with duckdb.connect(settings.warehouse_path, read_only=True) as con:
        assert con.execute("select sum(gmv) from marts.average_order_value").fetchall() == [
            (Decimal("574.99"),)
        ]
    # materialized by hand without credentials, the fetch assets are skipped, not failed
    fetch_assets = build_fetch_assets(daily_partitions("Asia/Shanghai"))
    with DagsterInstance.ephemeral() as instance:
        result = materialize(
            [fetch_assets],
            partition_key="2026-11-03",
            resources={"siyu": settings, "wechat": WeChatCredentials()},
            instance=instance,
        )
    assert result.success
    assert result.get_asset_materialization_events() == []


def siyu(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SIYU_")}
    environment |= {"SIYU_MAX_QUARANTINE_SHARE": "0.5"} | env
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_fetch_command_and_a_secret_that_never_shows(
    tmp_path: Path, wechat: FakeWeChat
) -> None:
    common = [
        "--landing",
        str(tmp_path / "landing"),
        "--warehouse",
        str(tmp_path / "wh" / "s.duckdb"),
    ]
    without = siyu("fetch", "wechat", *common, env={}, cwd=tmp_path)
    assert without.returncode == 2
    assert "SIYU_WECHAT_APPID" in without.stderr and "SIYU_WECHAT_APPSECRET" in without.stderr
    env = {
        "SIYU_WECHAT_APPID": APPID,
        "SIYU_WECHAT_APPSECRET": SECRET,
        "SIYU_WECHAT_API_BASE": wechat.base_url,
        "SIYU_PII_SALT": "salt",
    }
    fetched = siyu("fetch", "wechat", *common, env=env, cwd=tmp_path)
    assert fetched.returncode == 0, fetched.stderr
    assert f"Fetched WeChat data for {YESTERDAY}" in fetched.stdout
    assert "wechat_oa/article_detail: 1 file (1 new, 0 changed, 0 unchanged)" in fetched.stdout
    assert f"Fetch log: {tmp_path / 'logs' / 'wechat_fetch.jsonl'}" in fetched.stdout
    # the daily job as `siyu refresh` runs it with credentials: fetch yesterday, then refresh
    wechat.offline = {"getarticletotal"}
    refreshed = siyu("refresh", *common, env=env, cwd=tmp_path)
    assert refreshed.returncode == 0, refreshed.stderr
    assert "getarticletotal is offline (errcode 47009): no longer called" in refreshed.stdout
    assert "Refresh succeeded" in refreshed.stdout
    wechat.blocked_ip = "198.51.100.23"
    blocked = siyu("fetch", "wechat", *common, env=env, cwd=tmp_path)
    assert blocked.returncode == 1
    assert "198.51.100.23" in blocked.stdout and "IP allowlist" in blocked.stdout
    # the appid and the secret: in no output, no file (landing, logs, token cache, warehouse,
    # Dagster's run storage with its run config and event logs)
    outputs = [without, fetched, refreshed, blocked]
    for completed in outputs:
        for text in (completed.stdout, completed.stderr):
            assert SECRET not in text and APPID not in text
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert any("dagster_home" in str(path) for path in files)
    for path in files:
        data = path.read_bytes()
        assert SECRET.encode() not in data, path
        assert APPID.encode() not in data, path
