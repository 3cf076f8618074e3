"""The daily schedule: 06:00 in the business time zone, refreshing yesterday's partition.

Yesterday's files carry the revisions of earlier days (orders re-exported with late refunds,
articles re-fetched for 7 publish dates), and the dbt models recompute the days they change.
"""

from __future__ import annotations

from dagster import (
    ScheduleDefinition,
    build_schedule_from_partitioned_job,
)
from dagster._core.definitions.unresolved_asset_job_definition import (
    UnresolvedAssetJobDefinition,
)

SCHEDULE_HOUR = 6


def build_daily_schedule(
    refresh_job: UnresolvedAssetJobDefinition, business_timezone: str
) -> ScheduleDefinition:
    """Runs in the time zone of the job's partitions (the business time zone)."""
    schedule = build_schedule_from_partitioned_job(
        refresh_job,
        name="daily_refresh",
        hour_of_day=SCHEDULE_HOUR,
        minute_of_hour=0,
        description=f"Refresh yesterday ({business_timezone}) every morning at "
        f"{SCHEDULE_HOUR:02d}:00.",
    )
    assert isinstance(schedule, ScheduleDefinition)  # a job, not an asset selection, was given
    return schedule
