"""Daily partitions keyed by business date in the business time zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from dagster import DailyPartitionsDefinition, TimeWindow

BUSINESS_TIMEZONE = "Asia/Shanghai"
FIRST_PARTITION = "2025-01-01"

# One partition per business day; a day's partition exists once that day is over in Shanghai.
daily_partitions = DailyPartitionsDefinition(
    start_date=FIRST_PARTITION, timezone=BUSINESS_TIMEZONE, fmt="%Y-%m-%d"
)


def window_dates(window: TimeWindow) -> tuple[date, date]:
    """First and last business day (inclusive) of a partition time window."""
    return window.start.date(), (window.end - timedelta(days=1)).date()


def partition_key_range_tags(start: date, end: date) -> dict[str, str]:
    """Run tags that make one run cover the partitions [start, end] (single-run backfill)."""
    return {
        "dagster/asset_partition_range_start": start.isoformat(),
        "dagster/asset_partition_range_end": end.isoformat(),
    }


def last_complete_day(now: datetime) -> date:
    """Yesterday in the business time zone (`now` must be time-zone aware)."""
    from zoneinfo import ZoneInfo

    return (now.astimezone(ZoneInfo(BUSINESS_TIMEZONE)) - timedelta(days=1)).date()
