"""The daily schedule: 06:00 in the business time zone, refreshing yesterday's partition.

Yesterday's files carry the revisions of earlier days (orders re-exported with late refunds,
articles re-fetched for 7 publish dates), and the dbt models recompute the days they change.
"""

from dagster import build_schedule_from_partitioned_job

from orchestration.jobs import refresh_job

daily_refresh_schedule = build_schedule_from_partitioned_job(
    refresh_job,
    name="daily_refresh",
    hour_of_day=6,
    minute_of_hour=0,
    description="Refresh yesterday (Asia/Shanghai) every morning at 06:00.",
)
