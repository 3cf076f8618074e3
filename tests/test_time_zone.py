"""The business time zone is one setting: parsing and dbt follow it (the partitions, schedule and
freshness checks are shown to follow it in test_operations.py)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from tests.helpers import FIXTURE_LANDING, make_settings, run_pipeline

pytestmark = pytest.mark.e2e


def test_parsing_and_dbt_follow_the_business_time_zone(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURE_LANDING, landing)
    settings = make_settings(tmp_path, landing, business_timezone="UTC")
    outcome = run_pipeline(settings)
    assert outcome.success, outcome.failure_lines
    with duckdb.connect(settings.work_db_path, read_only=True) as con:
        # parsing: 002's registered_at has no offset, so it is local time in the zone (UTC here;
        # 15:30 UTC in Asia/Shanghai)
        assert con.execute(
            "select distinct registered_at from raw.mall_users where user_id = '002'"
        ).fetchall() == [(datetime(2026, 10, 30, 23, 30, tzinfo=UTC),)]
    with duckdb.connect(settings.warehouse_path, read_only=True) as con:
        # dbt: local dates in UTC. 003 (16:30Z) registers on 10-30, not on 10-31 as in
        # Shanghai; 001 and 002 have sessions that day (in Shanghai: 2 registered, 2 active)
        assert con.execute(
            "select registered_users, active_users from marts.daily_active_rate "
            "where date = '2026-10-30'"
        ).fetchall() == [(3, 2)]
