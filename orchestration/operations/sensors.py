"""A sensor that notices newly landed or re-landed files and requests a refresh of their days."""

import json
from datetime import date
from pathlib import Path

from dagster import (
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)
from dagster._core.definitions.unresolved_asset_job_definition import (
    UnresolvedAssetJobDefinition,
)

from ingestion.content_hash import content_digest, file_digest
from ingestion.loading import LandedFile, discover_landing, landed_days
from orchestration.partitions import FIRST_PARTITION, partition_key_range_tags
from orchestration.settings import SiyuSettings


def scan_landing(files: list[LandedFile], previous: dict[str, list]) -> dict[str, list]:
    """{relative path: [mtime_ns, size, sha256]}; a file is re-hashed only when its mtime or
    size changed since the previous scan."""
    seen: dict[str, list] = {}
    for landed in files:
        stat = landed.path.stat()
        old = previous.get(landed.relative_path)
        if old and old[0] == stat.st_mtime_ns and old[1] == stat.st_size:
            seen[landed.relative_path] = old
        else:
            seen[landed.relative_path] = [stat.st_mtime_ns, stat.st_size, file_digest(landed.path)]
    return seen


def changed_days(
    previous: dict[str, list], current: dict[str, list], files: list[LandedFile]
) -> tuple[list[date], bool]:
    """Business days whose files are new or changed (by content), and whether an undated
    whole file (channel registry, commission rules) changed."""
    days: set[date] = set()
    whole_file_changed = False
    dated = {landed.relative_path: landed.file_date for landed in files}
    for path, (_, _, digest) in current.items():
        if path in previous and previous[path][2] == digest:
            continue
        file_day = dated.get(path)
        if file_day is None:
            whole_file_changed = True
        else:
            days.add(file_day)
    return sorted(days), whole_file_changed


def landing_run_request(
    days: list[date], whole_file_changed: bool, run_key: str, latest_day: date | None
) -> RunRequest | None:
    """One run over the changed days (single-run backfill); a changed whole file alone
    refreshes the latest day, which rebuilds the marts."""
    first = date.fromisoformat(FIRST_PARTITION)
    days = [d for d in days if d >= first]
    if not days and whole_file_changed and latest_day is not None:
        days = [latest_day]
    if not days:
        return None
    if len(days) == 1:
        return RunRequest(run_key=run_key, partition_key=days[0].isoformat())
    return RunRequest(run_key=run_key, tags=partition_key_range_tags(days[0], days[-1]))


def evaluate_landing(
    context: SensorEvaluationContext, siyu: SiyuSettings
) -> RunRequest | SkipReason:
    """One tick of the landing sensor: compare the landing folder with the cursor."""
    landing_dir = Path(siyu.landing_dir)
    if not landing_dir.is_dir():
        return SkipReason(f"the landing folder {landing_dir} does not exist")
    previous: dict[str, list] = json.loads(context.cursor) if context.cursor else {}
    files = discover_landing(landing_dir)
    current = scan_landing(files, previous)
    days, whole_file_changed = changed_days(previous, current, files)
    context.update_cursor(json.dumps(current, sort_keys=True))
    dated_days = landed_days(files)
    digest = content_digest(json.dumps(current, sort_keys=True).encode())[:16]
    request = landing_run_request(
        days, whole_file_changed, f"landing-{digest}", dated_days[-1] if dated_days else None
    )
    if request is None:
        return SkipReason("no new or changed files in the landing folder")
    return request


def build_landing_sensor(refresh_job: UnresolvedAssetJobDefinition) -> SensorDefinition:
    @sensor(
        name="landing_sensor",
        job=refresh_job,
        minimum_interval_seconds=300,
        description=(
            "Notices newly landed or re-landed files (by path and content hash, kept in the "
            "cursor) and requests one refresh run covering the affected business days."
        ),
    )
    def landing_sensor(
        context: SensorEvaluationContext, siyu: SiyuSettings
    ) -> RunRequest | SkipReason:
        return evaluate_landing(context, siyu)

    return landing_sensor
