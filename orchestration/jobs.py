"""The refresh job: every source, every dbt model and test, then the publish step."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job, in_process_executor

REFRESH_JOB_NAME = "siyu_refresh"

# In-process: one writer on the working DuckDB at a time (DuckDB allows one writer per file).
refresh_job = define_asset_job(
    name=REFRESH_JOB_NAME,
    selection=AssetSelection.all(),
    executor_def=in_process_executor,
    description="Land every source, build and test the dbt models, publish the serving file.",
)
