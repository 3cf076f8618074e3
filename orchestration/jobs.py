"""The refresh job: every source, every dbt model and test, then the publish step."""

from __future__ import annotations

from dagster import (
    AssetSelection,
    DailyPartitionsDefinition,
    define_asset_job,
    in_process_executor,
)
from dagster._core.definitions.unresolved_asset_job_definition import (
    UnresolvedAssetJobDefinition,
)

REFRESH_JOB_NAME = "siyu_refresh"
FETCH_GROUP = "fetch"
# Runs with this tag are limited to one at a time (see dagster.yaml written by `siyu ui`).
WRITER_TAG = "siyu/working_database"


def build_refresh_job(
    partitions_def: DailyPartitionsDefinition, fetch_from_wechat: bool
) -> UnresolvedAssetJobDefinition:
    """Fetch from WeChat (when credentials are configured), land every source, build and test
    the dbt models, publish. In-process: the steps of a run never write the working DuckDB
    concurrently (DuckDB allows one writer per file), and the run queue allows one run with
    WRITER_TAG at a time. Without credentials the fetch assets are left out, so everything
    else runs on the files in the landing folder."""
    selection: AssetSelection = AssetSelection.all()
    if not fetch_from_wechat:
        selection = selection - AssetSelection.groups(FETCH_GROUP)
    return define_asset_job(
        name=REFRESH_JOB_NAME,
        selection=selection,
        partitions_def=partitions_def,
        executor_def=in_process_executor,
        tags={WRITER_TAG: "writer"},
        description="Fetch from WeChat, land every source, build and test the dbt models, "
        "publish the serving file.",
    )
