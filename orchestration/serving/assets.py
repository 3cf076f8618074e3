"""The last asset: the serving DuckDB file that analysts and BI tools open."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from orchestration.serving.publish import publish_serving_file
from orchestration.serving.report import build_kpi_report
from orchestration.settings import SiyuSettings

MART_NAMES = (
    "daily_active_rate",
    "daily_active_rate_by_channel",
    "order_conversion",
    "order_conversion_by_channel",
    "average_order_value",
    "average_order_value_by_channel",
    "content_performance",
    "follower_growth",
    "follower_growth_by_source",
    "channel_performance",
    "distributor_commissions",
    "kpi_scorecard",
    "kpi_targets",
    "user_retention",
    "buyer_cohorts",
    "buyer_cohorts_by_channel",
    "buyer_growth_accounting",
    "activity_performance",
    "customer_segments",
    "distributor_referrals",
    "segment_thresholds",
)


SERVING_KEY = AssetKey(["serving", "siyu_warehouse"])


@asset(
    key=SERVING_KEY,
    group_name="serving",
    deps=[AssetKey(["marts", name]) for name in MART_NAMES],
    kinds={"duckdb"},
    description=(
        "The serving DuckDB file (marts and quarantine schemas), published by an atomic replace "
        "after every upstream step and check succeeded."
    ),
)
def serving_warehouse(context: AssetExecutionContext, siyu: SiyuSettings) -> MaterializeResult:
    report = publish_serving_file(
        siyu.work_db_path,
        siyu.warehouse_path,
        siyu.storage_version,
        duckdb_config=siyu.duckdb_config(),
        business_timezone=siyu.business_timezone,
    )
    context.log.info(f"published {report.path} (storage version {report.storage_version})")
    return MaterializeResult(
        metadata={
            "path": report.path,
            "storage_version": report.storage_version,
            "tables": len(report.tables),
            "rows_by_table": report.tables,
        }
    )


@asset(
    key=AssetKey(["serving", "kpi_report"]),
    group_name="serving",
    deps=[SERVING_KEY],
    kinds={"html"},
    description=(
        "The KPI report beside the serving file (kpi_report.html): one offline HTML file with the "
        "KPI scorecard against targets, followers, channels, content, distributors and data "
        "quality, read from the published file."
    ),
)
def kpi_report(context: AssetExecutionContext, siyu: SiyuSettings) -> MaterializeResult:
    report = build_kpi_report(siyu.warehouse_path, work_db_path=siyu.work_db_path)
    context.log.info(f"wrote {report.path}")
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(report.path)),
            "as_of": str(report.as_of),
            "summary": MetadataValue.md(report.markdown),
        }
    )
