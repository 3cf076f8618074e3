"""A snapshot of the asset graph, checks, jobs, schedules and sensors, so changes show in review.

After an intended change: `SIYU_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest
tests/test_definitions_snapshot.py` and commit the new snapshot.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dagster import BackfillPolicy, Definitions

from orchestration.definitions import build_definitions
from tests.helpers import FIXTURE_LANDING, make_settings

pytestmark = pytest.mark.unit

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.txt"


def definitions_under(root: Path) -> Definitions:
    return build_definitions(make_settings(root, FIXTURE_LANDING))


def render_definitions(defs: Definitions) -> str:
    graph = defs.resolve_asset_graph()
    lines = ["# assets: key [group] (partitions) <- upstream keys"]
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        parents = ", ".join(sorted(p.to_user_string() for p in node.parent_keys))
        group = node.group_name or "-"
        materializable = "" if node.is_materializable else " (external)"
        # a UI backfill of a date range is one run only if every partitioned asset says so
        one_run = node.backfill_policy == BackfillPolicy.single_run()
        partitioned = (
            f" (daily partitions{', backfilled in one run' if one_run else ''})"
            if node.partitions_def is not None
            else ""
        )
        lines.append(f"{key.to_user_string()} [{group}]{materializable}{partitioned} <- {parents}")
    lines.append("# asset checks")
    for check_key in sorted(
        graph.asset_check_keys, key=lambda c: (c.asset_key.to_user_string(), c.name)
    ):
        lines.append(f"{check_key.asset_key.to_user_string()} :: {check_key.name}")
    lines.append("# jobs")
    lines += sorted(job.name for job in defs.resolve_all_job_defs() if job.name != "__ASSET_JOB")
    lines.append("# schedules")
    lines += sorted(
        f"{s.name} {s.cron_schedule} {s.execution_timezone}" for s in defs.schedules or []
    )
    lines.append("# sensors")
    lines += sorted(sensor.name for sensor in defs.sensors or [])
    return "\n".join(lines) + "\n"


def test_definitions_match_snapshot(tmp_path: Path) -> None:
    rendered = render_definitions(definitions_under(tmp_path))
    if os.environ.get("SIYU_UPDATE_SNAPSHOTS") == "1" or not SNAPSHOT.exists():
        SNAPSHOT.write_text(rendered, encoding="utf-8")
    assert rendered == SNAPSHOT.read_text(encoding="utf-8"), (
        "the Dagster definitions changed: review, then update the snapshot (see module docstring)"
    )


def test_every_spec_mart_is_an_asset_upstream_of_publish(tmp_path: Path) -> None:
    from dagster import AssetKey

    from orchestration.serving.assets import MART_NAMES

    graph = definitions_under(tmp_path).resolve_asset_graph()
    publish = graph.get(AssetKey(["serving", "siyu_warehouse"]))
    for name in MART_NAMES:
        assert AssetKey(["marts", name]) in publish.parent_keys
