"""One raw asset per landing source: the landed files, loaded into the working database.

Every load also writes the working database's bookkeeping (`raw.landed_files`, the change log
`raw.pending_changes`): the raw assets declare it, so the asset graph shows those tables with
the loads upstream of them and the dbt models that read them downstream.
"""

import time
from datetime import date
from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetObservation,
    AssetsDefinition,
    AssetSpec,
    BackfillPolicy,
    Config,
    DailyPartitionsDefinition,
    MaterializeResult,
    asset,
)
from dagster._core.definitions.metadata import RawMetadataValue

from expectations.gates import SourceGateResult, run_source_gate
from ingestion.loading import SourceLoadReport, load_source
from ingestion.queries import fetch_value
from ingestion.schemas import SOURCES, SourceSchema
from ingestion.working_database import LANDED_FILES, PENDING_CHANGES, WorkingTable
from orchestration.fetch.assets import fetch_key
from orchestration.partitions import window_dates
from orchestration.settings import SiyuSettings


class RawLoadConfig(Config):
    """Unchanged files are skipped unless `force_reload` (e.g. after a parser change)."""

    force_reload: bool = False


def load_window(context: AssetExecutionContext) -> tuple[date | None, date | None]:
    """The business days a run of this asset covers: its partition (range), or every day."""
    if context.has_partition_key or context.has_partition_key_range:
        return window_dates(context.partition_time_window)
    return None, None


def load_report_metadata(report: SourceLoadReport) -> dict[str, RawMetadataValue]:
    return {
        "files_seen": report.files_seen,
        "files_loaded": report.files_loaded,
        "files_unchanged": report.files_unchanged,
        "files_removed": report.files_removed,
        "rows_landed": report.rows_landed,
        "rows_loaded": report.rows_loaded,
        "rows_rejected": report.rows_rejected,
        "rejected_files": [f"{file}: {reason}" for file, reason in report.rejected_files],
    }


# the bookkeeping tables every raw load writes
WRITTEN_BY_EVERY_LOAD: tuple[WorkingTable, ...] = (LANDED_FILES, PENDING_CHANGES)


def working_table_key(table: WorkingTable) -> AssetKey:
    return AssetKey([table.schema, table.name])


QUALITY_GATE = "quality_gate"
VOLUME = "volume"


def gate_check_results(gate: SourceGateResult, volume_blocking: bool) -> list[AssetCheckResult]:
    """The blocking quality gate and the (by default) non-blocking volume check of a source."""
    gate_messages, volume_messages = gate.gate_messages, gate.warning_messages
    return [
        AssetCheckResult(
            check_name=QUALITY_GATE,
            passed=not gate_messages,
            severity=AssetCheckSeverity.ERROR,
            description="; ".join(gate_messages[:10]) or "every expectation met",
            metadata={"failures": gate_messages, "great_expectations": gate.suites},
        ),
        AssetCheckResult(
            check_name=VOLUME,
            passed=not volume_messages,
            severity=AssetCheckSeverity.ERROR if volume_blocking else AssetCheckSeverity.WARN,
            description="; ".join(volume_messages[:10]) or "volume as expected",
            metadata={"warnings": volume_messages},
        ),
    ]


def build_raw_asset(
    schema: SourceSchema, partitions_def: DailyPartitionsDefinition
) -> AssetsDefinition:
    key = AssetKey(["raw", schema.name])

    @asset(
        key=key,
        partitions_def=partitions_def if schema.dated else None,
        # the WeChat sources land from the fetch assets (when a run includes them)
        deps=[fetch_key(schema)] if schema.wechat_api else None,
        backfill_policy=BackfillPolicy.single_run() if schema.dated else None,
        group_name="landing",
        description=f"{schema.description} Files: `{schema.path_glob}` in the landing folder.",
        kinds={"duckdb", "polars"},
        metadata={
            "source_family": schema.family,
            "path_glob": schema.path_glob,
            "writes": [table.qualified_name for table in WRITTEN_BY_EVERY_LOAD],
        },
        check_specs=[
            AssetCheckSpec(
                QUALITY_GATE,
                asset=key,
                blocking=True,
                description=(
                    f"Great Expectations suites {schema.name}__rows (the new rows) and "
                    f"{schema.name}__batch (rejected files, quarantine share) gate the refresh."
                ),
            ),
            AssetCheckSpec(
                VOLUME,
                asset=key,
                blocking=False,
                description="Volume anomalies: an empty day after rows, a drop against the "
                "trailing 7-day median. A warning unless SIYU_VOLUME_BLOCKING is set.",
            ),
        ],
    )
    def raw_source(
        context: AssetExecutionContext, config: RawLoadConfig, siyu: SiyuSettings
    ) -> MaterializeResult:
        start, end = schema.days_to_load(*load_window(context))
        limits = siyu.gate_limits()
        began = time.perf_counter()
        with siyu.connect_work_db() as con:
            report = load_source(
                con,
                Path(siyu.landing_dir),
                schema,
                business_timezone=siyu.business_timezone,
                pii_salt=siyu.pii_salt,
                start=start,
                end=end,
                force=config.force_reload,
            )
            loaded = time.perf_counter()
            gate = run_source_gate(con, schema, report.loaded_files, start, end, limits)
            gated = time.perf_counter()
            pending = int(fetch_value(con, "select count(*) from raw.pending_changes") or 0)
        context.log_event(
            AssetObservation(
                asset_key=working_table_key(LANDED_FILES),
                metadata={"source": schema.name, "files_recorded": report.files_seen},
            )
        )
        context.log_event(
            AssetObservation(
                asset_key=working_table_key(PENDING_CHANGES),
                metadata={"source": schema.name, "pending_changes": pending},
            )
        )
        for message in gate.gate_messages:
            context.log.error(f"quality gate failed: {message}")
        for message in gate.warning_messages:
            context.log.warning(f"data-quality warning: {message}")
        return MaterializeResult(
            metadata=load_report_metadata(report)
            | {
                "load_seconds": round(loaded - began, 3),
                "gate_seconds": round(gated - loaded, 3),
            },
            check_results=gate_check_results(gate, limits.volume_blocking),
        )

    return raw_source


def build_raw_assets(partitions_def: DailyPartitionsDefinition) -> list[AssetsDefinition]:
    """One raw asset per landing source; the daily sources on `partitions_def`."""
    return [build_raw_asset(schema, partitions_def) for schema in SOURCES]


def build_bookkeeping_specs(raw_assets: list[AssetsDefinition]) -> list[AssetSpec]:
    """The tables every raw load writes, downstream of the loads (written in their steps)."""
    return [
        AssetSpec(
            working_table_key(table),
            deps=[raw_asset.key for raw_asset in raw_assets],
            group_name="landing",
            description=f"{table.description} Written by every raw load "
            "(ingestion/working_database.py).",
            kinds={"duckdb"},
        )
        for table in WRITTEN_BY_EVERY_LOAD
    ]
