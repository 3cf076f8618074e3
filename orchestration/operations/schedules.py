"""The daily schedule: 08:30 in the business time zone (WeChat's data for yesterday is ready
after 08:00), fetching yesterday from WeChat when credentials are configured, then refreshing
yesterday's partition.

Yesterday's files carry the revisions of earlier days (orders re-exported with late refunds,
articles re-fetched for 30 publish dates, user data for the 3 days before), and the dbt models
recompute the days they change.
"""

from __future__ import annotations

from dagster import (
    ScheduleDefinition,
    build_schedule_from_partitioned_job,
)
from dagster._core.definitions.unresolved_asset_job_definition import (
    UnresolvedAssetJobDefinition,
)

SCHEDULE_HOUR, SCHEDULE_MINUTE = 8, 30


def build_daily_schedule(
    refresh_job: UnresolvedAssetJobDefinition, business_timezone: str
) -> ScheduleDefinition:
    """Runs in the time zone of the job's partitions (the business time zone)."""
    schedule = build_schedule_from_partitioned_job(
        refresh_job,
        name="daily_refresh",
        hour_of_day=SCHEDULE_HOUR,
        minute_of_hour=SCHEDULE_MINUTE,
        description=f"Fetch from WeChat and refresh yesterday ({business_timezone}) every "
        f"morning at {SCHEDULE_HOUR:02d}:{SCHEDULE_MINUTE:02d}.",
    )
    assert isinstance(schedule, ScheduleDefinition)  # a job, not an asset selection, was given
    return schedule
