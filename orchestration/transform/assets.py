"""dbt models, seeds and tests as Dagster assets and asset checks.

The dbt assets are not partitioned: a run builds them once, whatever the days it covers (the
incremental models recompute what the change log names). Partitioned, Dagster would record a
materialization of every model for every day of a range — 40 models x 180 days of a backfill
are 7,200 events, seconds of bookkeeping for nothing. The days of the run (its partition or
range tags) still reach the models: they are logged as the refresh window.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Config,
)
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from ingestion.working_database import (
    needs_full_refresh,
    note_refresh_window,
    record_complete_build,
)
from orchestration.partitions import run_window
from orchestration.settings import SiyuSettings
from orchestration.transform.cli_args import DbtVars, dbt_build_args
from orchestration.transform.project import (
    build_target_path,
    project_fingerprint,
    siyu_dbt_project,
)

DBT_ASSETS_NAME = "siyu_dbt_models"


class DbtBuildConfig(Config):
    """`full_refresh` rebuilds every incremental model from the whole raw history (also done
    automatically when the dbt project changed since the last complete build)."""

    full_refresh: bool = False


class SiyuDbtTranslator(DagsterDbtTranslator):
    """Models are keyed by their schema (`marts/daily_active_rate`) and grouped by layer."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            schema = dbt_resource_props.get("config", {}).get("schema") or "main"
            return AssetKey([schema, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "transform"


def build_dbt_assets() -> AssetsDefinition:
    """Every dbt model, seed and test: one dbt build per run."""

    @dbt_assets(
        name=DBT_ASSETS_NAME,
        manifest=siyu_dbt_project.manifest_path,
        project=siyu_dbt_project,
        dagster_dbt_translator=SiyuDbtTranslator(),
    )
    def siyu_dbt_models(
        context: AssetExecutionContext,
        config: DbtBuildConfig,
        dbt: DbtCliResource,
        siyu: SiyuSettings,
    ) -> Any:
        window = run_window(context.run.tags)
        dbt_vars = DbtVars(
            work_db_path=siyu.work_db_path,
            business_timezone=siyu.business_timezone,
            memory_limit=siyu.duckdb_memory_limit,
        )
        fingerprint = project_fingerprint(siyu_dbt_project.project_dir)
        with siyu.connect_work_db() as con:
            full_refresh = config.full_refresh or needs_full_refresh(con, fingerprint)
            if window is not None:
                note_refresh_window(con, *window)
        if full_refresh and not config.full_refresh:
            context.log.info("the dbt project changed since the last complete build: full refresh")
        build_started = datetime.now(UTC)
        yield from dbt.cli(
            dbt_build_args(dbt_vars, full_refresh),
            context=context,
            target_path=build_target_path(siyu.work_db_path),
        ).stream()
        # stream() raises when any model or blocking test failed: the change log is kept then,
        # and the next build recomputes what it names (delete+insert makes that idempotent)
        if not context.is_subset:
            with siyu.connect_work_db() as con:
                applied = record_complete_build(con, fingerprint, build_started, full_refresh)
            context.log.info(f"incremental models are up to date ({applied} change-log entries)")

    return siyu_dbt_models
