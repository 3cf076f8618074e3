"""Daily partitions keyed by business date, in the business time zone of the settings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dagster import DailyPartitionsDefinition, TimeWindow

FIRST_PARTITION = "2025-01-01"


def daily_partitions(business_timezone: str) -> DailyPartitionsDefinition:
    """One partition per business day; a day's partition exists once that day is over."""
    return DailyPartitionsDefinition(
        start_date=FIRST_PARTITION, timezone=business_timezone, fmt="%Y-%m-%d"
    )


def window_dates(window: TimeWindow) -> tuple[date, date]:
    """First and last business day (inclusive) of a partition time window."""
    return window.start.date(), (window.end - timedelta(days=1)).date()


RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"


def run_window(tags: Mapping[str, str]) -> tuple[date, date] | None:
    """The business days a run covers, from its tags: one partition, or a range (a single-run
    backfill); None for a run without partitions."""
    if PARTITION_TAG in tags:
        day = date.fromisoformat(tags[PARTITION_TAG])
        return day, day
    if RANGE_START_TAG in tags and RANGE_END_TAG in tags:
        return date.fromisoformat(tags[RANGE_START_TAG]), date.fromisoformat(tags[RANGE_END_TAG])
    return None


def partition_key_range_tags(start: date, end: date) -> dict[str, str]:
    """Run tags that make one run cover the partitions [start, end] (single-run backfill)."""
    return {RANGE_START_TAG: start.isoformat(), RANGE_END_TAG: end.isoformat()}


def last_complete_day(now: datetime, business_timezone: str) -> date:
    """Yesterday in the business time zone (`now` must be time-zone aware)."""
    return (now.astimezone(ZoneInfo(business_timezone)) - timedelta(days=1)).date()
