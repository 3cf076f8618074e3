"""dbt CLI arguments, built by small typed functions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ingestion.content_hash import content_digest


@dataclass(frozen=True)
class DbtVars:
    work_db_path: str
    business_timezone: str
    memory_limit: str  # DuckDB's, as the settings give it

    def as_dict(self) -> dict[str, str]:
        # the same every day: dbt's partial parsing is undone by any change of --vars, so the
        # run's partition window reaches the models through the change log, not as vars
        return {
            "work_db_path": self.work_db_path,
            "business_timezone": self.business_timezone,
            "memory_limit": self.memory_limit,
        }


def dbt_vars_argument(dbt_vars: DbtVars) -> list[str]:
    return ["--vars", json.dumps(dbt_vars.as_dict(), sort_keys=True)]


# the nodes a build under kept test SQL leaves to others: the data tests run in one batch in
# DuckDB (orchestration.transform.data_tests); views and seeds are as the last complete build of
# the same project left them (a view reads its tables when queried; a seed's rows are its file's)
TESTS_APART_EXCLUDES = ("resource_type:test", "resource_type:seed", "config.materialized:view")


def dbt_build_args(
    dbt_vars: DbtVars, full_refresh: bool = False, *, tests_apart: bool = False
) -> list[str]:
    """`dbt build` over the selected models, seeds and tests, with Siyu's variables;
    `tests_apart`: the models of tables only (see TESTS_APART_EXCLUDES)."""
    # cautious: tests on raw sources belong to the raw assets, not to this dbt run. dbt's unit
    # tests check the models' SQL on mock rows, not the data: they run in the test suite
    # (tests/test_dbt_unit_tests.py), not in every refresh (about 1.5 s a build). dbt.log at
    # info level: at its default (debug) it writes every statement of every node, about 1 s of
    # a daily build; the run log keeps dbt's messages and a failing node's SQL error
    args = [
        "build",
        "--indirect-selection",
        "cautious",
        "--exclude",  # one value: dagster-dbt moves `--exclude <value>` behind its selection
        " ".join(("test_type:unit", *(TESTS_APART_EXCLUDES if tests_apart else ()))),
        "--log-level-file",
        "info",
        *dbt_vars_argument(dbt_vars),
    ]
    if full_refresh:
        args.append("--full-refresh")
    return args


def dbt_target_path(project_target: Path, work_db_path: str) -> Path:
    """One dbt target folder per working database, reused by every build (dagster-dbt would
    otherwise leave a new folder of artifacts per run: gigabytes within months)."""
    key = content_digest(str(Path(work_db_path).resolve()).encode())[:12]
    return project_target / f"build-{key}"
