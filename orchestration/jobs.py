"""The refresh job: every source, every dbt model and test, then the publish step."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job, in_process_executor

from orchestration.partitions import daily_partitions

REFRESH_JOB_NAME = "siyu_refresh"
# Runs with this tag are limited to one at a time (see dagster.yaml written by `siyu ui`).
WRITER_TAG = "siyu/working_database"

# In-process: the steps of a run never write the working DuckDB concurrently (DuckDB allows one
# writer per file), and the run queue allows one run with WRITER_TAG at a time.
refresh_job = define_asset_job(
    name=REFRESH_JOB_NAME,
    selection=AssetSelection.all(),
    partitions_def=daily_partitions,
    executor_def=in_process_executor,
    tags={WRITER_TAG: "writer"},
    description="Land every source, build and test the dbt models, publish the serving file.",
)
