"""dbt models, seeds and tests as Dagster assets and asset checks.

The dbt assets are not partitioned: a run builds them once, whatever the days it covers (the
incremental models recompute what the change log names). Partitioned, Dagster would record a
materialization of every model for every day of a range — 40 models x 180 days of a backfill
are 7,200 events, seconds of bookkeeping for nothing. The days of the run (its partition or
range tags) still reach the models: they are logged as the refresh window.
"""

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from graphlib import TopologicalSorter
from importlib.metadata import version as installed_version
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Config,
    Failure,
    Output,
)
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from dagster_dbt.asset_utils import get_asset_check_key_for_test

from ingestion.working_database import (
    needs_full_refresh,
    note_refresh_window,
    record_build_attempt,
    record_complete_build,
)
from orchestration.partitions import run_window
from orchestration.settings import SiyuSettings
from orchestration.transform.cli_args import DbtVars, dbt_build_args
from orchestration.transform.data_tests import (
    DataTestResult,
    check_metadata,
    compiled_tests_of_build,
    data_tests_key,
    downstream_of_failures,
    load_compiled_tests,
    run_data_tests,
    save_compiled_tests,
    save_results,
)
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


def reused_outputs(
    context: AssetExecutionContext, manifest: Mapping[str, Any], translator: DagsterDbtTranslator
) -> Iterator[Output[None]]:
    """The views and seeds a build with its tests apart leaves as they are (unchanged since the
    last complete build of the same project): materialized as `reused`, as dbt calls a node it
    did not rebuild, so the steps after dbt (the publish reads two seeds) run."""
    for props in manifest["nodes"].values():
        materialized = props.get("config", {}).get("materialized")
        if props["resource_type"] == "seed" or (
            props["resource_type"] == "model" and materialized == "view"
        ):
            key = translator.get_asset_key(props)
            if key in context.selected_asset_keys:
                yield Output(
                    None,
                    output_name=key.to_python_identifier(),
                    metadata={"unique_id": props["unique_id"], "status": "reused"},
                )


def in_dependency_order(events: Sequence[Any], manifest: Mapping[str, Any]) -> list[Any]:
    """Outputs ordered as dbt's graph orders their nodes (Dagster asks that of a multi-asset),
    other events after them."""
    graph = {
        unique_id: set(props.get("depends_on", {}).get("nodes", []))
        for unique_id, props in manifest["nodes"].items()
    }
    position = {unique_id: i for i, unique_id in enumerate(TopologicalSorter(graph).static_order())}

    def rank(event: Any) -> int:
        node = output_node(event)
        return len(position) if node is None else position.get(node, len(position))

    return sorted(events, key=rank)


def output_node(event: Any) -> str | None:
    """The dbt node of an Output (dagster-dbt's and ours carry its unique_id), else None."""
    if not isinstance(event, Output) or "unique_id" not in event.metadata:
        return None
    return str(event.metadata["unique_id"].value)


def data_test_check_results(
    context: AssetExecutionContext,
    manifest: Mapping[str, Any],
    translator: DagsterDbtTranslator,
    results: Sequence[DataTestResult],
) -> Iterator[AssetCheckResult]:
    """Each test's result as the asset check dagster-dbt defines for it."""
    for result in results:
        key = get_asset_check_key_for_test(
            manifest, translator, result.unique_id, project=siyu_dbt_project
        )
        if key is None or key not in context.selected_asset_check_keys:
            context.log.info(f"dbt test {result.unique_id}: {result.status} {result.message}")
            continue
        yield AssetCheckResult(
            passed=result.status == "pass",
            asset_key=key.asset_key,
            check_name=key.name,
            severity=AssetCheckSeverity.WARN
            if result.status == "warn"
            else AssetCheckSeverity.ERROR,
            metadata=check_metadata(result),
            description=result.message or None,
        )


def build_dbt_assets() -> AssetsDefinition:
    """Every dbt model, seed and test: one dbt build per run."""
    translator = SiyuDbtTranslator()

    @dbt_assets(
        name=DBT_ASSETS_NAME,
        manifest=siyu_dbt_project.manifest_path,
        project=siyu_dbt_project,
        dagster_dbt_translator=translator,
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
        target = build_target_path(siyu.work_db_path)
        with siyu.connect_work_db() as con:
            full_refresh = config.full_refresh or needs_full_refresh(con, fingerprint)
            if window is not None:
                note_refresh_window(con, *window)
            # after the window is noted: the build applies it, and a complete one forgets it
            build_started = datetime.now(UTC)
            record_build_attempt(con, fingerprint, build_started)
        if full_refresh and not config.full_refresh:
            context.log.info("the dbt project changed since the last complete build: full refresh")
        tests_key = data_tests_key(
            siyu_dbt_project.project_dir, dbt_vars, installed_version("dbt-core")
        )
        # the tests apart, in one batch, once a complete build of this project kept their SQL
        kept_tests = (
            None if full_refresh or context.is_subset else load_compiled_tests(target, tests_key)
        )
        invocation = dbt.cli(
            dbt_build_args(dbt_vars, full_refresh, tests_apart=kept_tests is not None),
            context=context,
            target_path=target,
        )
        # stream() raises when any model or blocking test failed: the change log is kept then,
        # and the next build recomputes what it names (delete+insert makes that idempotent)
        if kept_tests is None:
            yield from invocation.stream()
            if not context.is_subset:
                save_compiled_tests(target, tests_key, compiled_tests_of_build(target))
        else:
            built = list(invocation.stream())
            with siyu.connect_work_db() as con:
                results = run_data_tests(con, kept_tests)
            save_results(target, results)
            failed = [result for result in results if result.status in ("fail", "error")]
            nodes = invocation.manifest["nodes"]
            # what dbt's build would have skipped after a failed test: built in the working
            # database, but recorded neither as materialized nor as checked
            held = downstream_of_failures(nodes, [result.unique_id for result in failed])
            if held:
                context.log.warning(
                    f"{len(held)} models downstream of a failed dbt test are not recorded as "
                    f"materialized: {', '.join(sorted(held))}"
                )
            outputs = [*built, *reused_outputs(context, invocation.manifest, translator)]
            yield from in_dependency_order(
                [event for event in outputs if output_node(event) not in held],
                invocation.manifest,
            )
            checked = [
                result
                for result in results
                if held.isdisjoint(
                    nodes.get(result.unique_id, {}).get("depends_on", {}).get("nodes", [])
                )
            ]
            yield from data_test_check_results(context, invocation.manifest, translator, checked)
            if failed:
                named = "; ".join(f"{r.unique_id}: {r.message}" for r in failed[:5])
                raise Failure(
                    f"{len(failed)} dbt data tests failed (blocking asset checks): {named}"
                )
        if not context.is_subset:
            with siyu.connect_work_db() as con:
                applied = record_complete_build(con, fingerprint, build_started, full_refresh)
            context.log.info(f"incremental models are up to date ({applied} change-log entries)")

    return siyu_dbt_models
