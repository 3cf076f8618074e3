"""The dbt data tests of a daily build, run apart in one batch (orchestration.transform.data_tests):
the same asset checks with the same verdicts as when dbt runs them, and as blocking.

A build that runs the tests through dbt keeps their SQL; the next build of the same project runs
the models through dbt (views and seeds left as they are) and the kept SQL in DuckDB.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import pytest
from dagster import DagsterEventType, DagsterInstance

from orchestration.runner import run_refresh
from orchestration.settings import SiyuSettings
from orchestration.transform.data_tests import COMPILED_TESTS_FILE, RESULTS_FILE
from orchestration.transform.project import build_target_path
from tests.helpers import FIXTURE_LANDING, PipelineRun, make_settings

pytestmark = pytest.mark.e2e

LAST_DAY = date(2026, 12, 1)
DBT_GROUPS = ("staging", "intermediate", "marts", "reference")


class Refresh(NamedTuple):
    success: bool
    failure_lines: list[str]
    # every asset check of the dbt assets evaluated in the run: (asset, check) -> (passed, severity)
    checks: dict[tuple[str, str], tuple[bool, str]]
    materialized: set[str]


def refresh(settings: SiyuSettings, **kwargs: Any) -> Refresh:
    with DagsterInstance.ephemeral() as instance:
        outcome = run_refresh(
            settings,
            start=LAST_DAY,
            end=LAST_DAY,
            fetch_from_wechat=False,
            instance=instance,
            **kwargs,
        )
        [run] = instance.get_runs(limit=1)
        checks = {}
        for entry in instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION):
            data = entry.dagster_event.event_specific_data
            asset = data.asset_key.to_user_string()
            if asset.split("/")[0] in DBT_GROUPS or asset.startswith("main/"):
                checks[(asset, data.check_name)] = (bool(data.passed), data.severity.value)
        materialized = {
            entry.dagster_event.asset_key.to_user_string()
            for entry in instance.all_logs(
                run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION
            )
        }
    return Refresh(outcome.success, outcome.failure_lines, checks, materialized)


def dbt_test_nodes_run(settings: SiyuSettings) -> int:
    results = json.loads(
        (build_target_path(settings.work_db_path) / "run_results.json").read_text()
    )
    return sum(1 for result in results["results"] if result["unique_id"].startswith("test."))


def test_tests_apart_give_dbts_verdicts_and_block_the_publish(
    tmp_path: Path, day_by_day_run: PipelineRun
) -> None:
    # the day-by-day state, copied to a new path: no build of it has kept its tests yet
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURE_LANDING, landing)
    settings = make_settings(tmp_path, landing)
    Path(settings.work_db_path).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(day_by_day_run.settings.work_db_path, settings.work_db_path)
    shutil.copyfile(day_by_day_run.settings.warehouse_path, settings.warehouse_path)
    target = build_target_path(settings.work_db_path)
    assert not (target / COMPILED_TESTS_FILE).exists()

    through_dbt_run = refresh(settings)
    assert through_dbt_run.success
    through_dbt = through_dbt_run.checks
    assert dbt_test_nodes_run(settings) > 100
    assert (target / COMPILED_TESTS_FILE).exists()

    apart_run = refresh(settings)
    assert apart_run.success
    apart = apart_run.checks
    assert apart_run.materialized == through_dbt_run.materialized
    with duckdb.connect(settings.work_db_path, read_only=True) as con:
        # a complete build applied the whole change log, the run's window included
        assert con.execute("select count(*) from raw.pending_changes").fetchone() == (0,)
    assert dbt_test_nodes_run(settings) == 0  # dbt built the models only
    assert len(json.loads((target / RESULTS_FILE).read_text())["results"]) == len(apart)
    # the same checks, with the same verdicts (the data-quality warnings list warns)
    assert apart == through_dbt
    assert sum(1 for passed, _ in apart.values() if not passed) == 1
    warned = [key for key, (passed, severity) in apart.items() if not passed]
    assert apart[warned[0]] == (False, "WARN")

    # a seed is not reloaded by a build with its tests apart: a duplicate KPI written into the
    # working database's copy stays, and its `unique` test must find it and block the publish
    with duckdb.connect(settings.work_db_path) as con:
        con.execute("insert into marts.kpi_targets select * from marts.kpi_targets limit 1")
    published = Path(settings.warehouse_path).stat().st_mtime_ns
    blocked = refresh(settings)
    assert not blocked.success
    assert blocked.checks[("marts/kpi_targets", "unique_kpi_targets_kpi")] == (False, "ERROR")
    assert any("unique_kpi_targets_kpi" in line for line in blocked.failure_lines)
    # as dbt's build skips them: what reads the seed is not recorded as materialized, nor checked
    assert "marts/kpi_targets" in blocked.materialized
    assert "marts/daily_active_rate" in blocked.materialized
    assert not {"marts/kpi_scorecard", "marts/content_performance"} & blocked.materialized
    assert not any(asset == "marts/kpi_scorecard" for asset, _ in blocked.checks)
    assert Path(settings.warehouse_path).stat().st_mtime_ns == published
    with duckdb.connect(settings.warehouse_path, read_only=True) as con:
        [(kpis, distinct)] = con.execute(
            "select count(*), count(distinct kpi) from marts.kpi_targets"
        ).fetchall()
    assert kpis == distinct

    # a full refresh runs everything through dbt again: the seed is reloaded from its file
    assert refresh(settings, full_refresh=True).success
    assert dbt_test_nodes_run(settings) > 100
