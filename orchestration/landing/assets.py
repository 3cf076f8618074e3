"""One raw asset per landing source: the landed files, loaded into the working database."""

from datetime import date
from pathlib import Path

from dagster import AssetExecutionContext, AssetsDefinition, Config, MaterializeResult, asset

from ingestion.loading import SourceLoadReport, load_source
from ingestion.schemas import SOURCES, SourceSchema
from orchestration.settings import SiyuSettings


class RawLoadConfig(Config):
    """Which daily files to (re)load: [start, end] by the date in the file name, all when
    unset. Unchanged files are skipped unless `force_reload`."""

    start: str | None = None
    end: str | None = None
    force_reload: bool = False


def parse_optional_date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def load_report_metadata(report: SourceLoadReport) -> dict[str, object]:
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


def build_raw_asset(schema: SourceSchema) -> AssetsDefinition:
    @asset(
        name=schema.name,
        key_prefix=["raw"],
        group_name="landing",
        description=f"{schema.description} Files: `{schema.path_glob}` in the landing folder.",
        kinds={"duckdb", "polars"},
        metadata={"source_family": schema.family, "path_glob": schema.path_glob},
    )
    def raw_source(
        context: AssetExecutionContext, config: RawLoadConfig, siyu: SiyuSettings
    ) -> MaterializeResult:
        with siyu.connect_work_db() as con:
            report = load_source(
                con,
                Path(siyu.landing_dir),
                schema,
                business_timezone=siyu.business_timezone,
                pii_salt=siyu.pii_salt,
                start=parse_optional_date(config.start),
                end=parse_optional_date(config.end),
                force=config.force_reload,
            )
        for file, reason in report.rejected_files:
            context.log.warning(f"{schema.name}: rejected file {file}: {reason}")
        return MaterializeResult(metadata=load_report_metadata(report))

    return raw_source


raw_assets: list[AssetsDefinition] = [build_raw_asset(schema) for schema in SOURCES]
