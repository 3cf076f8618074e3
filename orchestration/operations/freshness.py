"""Freshness: every daily source is expected every day; a missing day warns (never blocks)."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    asset_check,
)

from ingestion.loading import discover_files
from ingestion.schemas import SOURCES, SourceSchema, source_named
from orchestration.settings import SiyuSettings

READY_HOUR = 8  # WeChat's data for a day is ready after 08:00 the next day


def expected_latest_day(
    now: datetime, business_timezone: str, ready_hour: int = READY_HOUR
) -> date:
    """The newest business day whose files should have landed by `now`."""
    local = now.astimezone(ZoneInfo(business_timezone))
    lag = 1 if local.hour >= ready_hour else 2
    return local.date() - timedelta(days=lag)


def missing_days(present: set[date], expected_latest: date) -> list[date]:
    """Days without a file from the first landed day up to `expected_latest`."""
    if not present:
        return [expected_latest]
    day, missing = min(present), []
    while day <= expected_latest:
        if day not in present:
            missing.append(day)
        day += timedelta(days=1)
    return missing


def landed_file_days(schema: SourceSchema, landing_dir: Path) -> set[date]:
    return {
        landed.file_date
        for landed in discover_files(landing_dir, schema)
        if landed.file_date is not None
    }


def _passed(
    schema: SourceSchema, description: str, latest: str, expected: date
) -> AssetCheckResult:
    return AssetCheckResult(
        passed=True,
        severity=AssetCheckSeverity.WARN,
        description=f"{schema.name}: {description}",
        metadata={
            "latest_landed_day": latest,
            "expected_latest_day": expected.isoformat(),
            "missing_days": [],
        },
    )


def freshness_result(
    schema: SourceSchema, landing_dir: Path, now: datetime, business_timezone: str
) -> AssetCheckResult:
    present = landed_file_days(schema, landing_dir)
    expected = expected_latest_day(now, business_timezone)
    latest = max(present).isoformat() if present else "none"
    if not present and not schema.required:
        return _passed(schema, "no file has landed (an optional source)", latest, expected)
    if schema.superseded_by is not None:
        successor = source_named(schema.superseded_by)
        successor_days = landed_file_days(successor, landing_dir)
        if successor_days and not missing_days(successor_days, expected):
            return _passed(
                schema,
                f"replaced by {successor.name}, which is up to date "
                f"(latest {max(successor_days).isoformat()})",
                latest,
                expected,
            )
    if schema.expected_every_days > 1:
        # snapshots: only the age of the newest one matters
        oldest_allowed = expected - timedelta(days=schema.expected_every_days - 1)
        newest = max(present) if present else None
        missing = [] if newest is not None and newest >= oldest_allowed else [expected]
    else:
        missing = missing_days(present, expected)
    shown = ", ".join(day.isoformat() for day in missing[:10])
    more = f" (+{len(missing) - 10} more)" if len(missing) > 10 else ""
    return AssetCheckResult(
        passed=not missing,
        severity=AssetCheckSeverity.WARN,
        description=(
            f"{schema.name}: up to date (latest {latest})"
            if not missing
            else f"{schema.name}: {len(missing)} day(s) missing: {shown}{more} "
            f"(latest landed {latest}, expected up to {expected.isoformat()})"
        ),
        metadata={
            "latest_landed_day": latest,
            "expected_latest_day": expected.isoformat(),
            "missing_days": [day.isoformat() for day in missing],
        },
    )


def build_freshness_check(schema: SourceSchema, business_timezone: str) -> AssetChecksDefinition:
    @asset_check(
        asset=AssetKey(["raw", schema.name]),
        name="freshness",
        blocking=False,
        description=(
            f"Expects a {schema.path_glob} file every {schema.expected_every_days} day(s) up to "
            f"yesterday (after {READY_HOUR}:00 {business_timezone}); warns about missing days."
        ),
    )
    def freshness(context: AssetCheckExecutionContext, siyu: SiyuSettings) -> AssetCheckResult:
        return freshness_result(
            schema, Path(siyu.landing_dir), datetime.now(tz=UTC), siyu.business_timezone
        )

    return freshness


def build_freshness_checks(business_timezone: str) -> list[AssetChecksDefinition]:
    return [build_freshness_check(schema, business_timezone) for schema in SOURCES if schema.dated]
