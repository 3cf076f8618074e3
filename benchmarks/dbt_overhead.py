"""Benchmark: where a daily `dbt build` spends its time, beyond its SQL.

    .venv/bin/python benchmarks/dbt_overhead.py --work-db PATH/siyu.work.duckdb

On a copy of a working database that a refresh has built (its models exist, its change log is
applied), times:

1. `dbt build` as the refresh runs it: a process, with the pipeline's arguments, JSON log lines
   on stdout for dagster-dbt;
2. the same build in this process (dbt's `dbtRunner`): the import of dbt, the parse (partial
   parsing, as the CLI does it), then the build on the parsed manifest, with dbt's stdout log and
   without it, and without its JSON artifacts;
3. the SQL of the build's tests run directly in DuckDB, one after the other.

and prints the figures, with dbt's time per node beyond DuckDB's. A daily build is a few hundred
nodes on a few MB of new data: its cost is dbt's own work per node, not the SQL.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from orchestration.settings import DEFAULT_DUCKDB_MEMORY_LIMIT
from orchestration.transform.cli_args import DbtVars, dbt_build_args
from orchestration.transform.project import DBT_PROJECT_DIR, dbt_executable


def timed(label: str, figures: dict[str, float], began: float) -> float:
    figures[label] = time.perf_counter() - began
    print(f"{label:<58} {figures[label]:6.1f} s", flush=True)
    return time.perf_counter()


def fresh_target(folder: Path, name: str) -> Path:
    """A target folder with the project's partial-parse file, as dagster-dbt prepares one."""
    target = folder / name
    target.mkdir()
    partial = DBT_PROJECT_DIR / "target" / "partial_parse.msgpack"
    if partial.exists():
        shutil.copy2(partial, target / "partial_parse.msgpack")
    return target


def tests_sql_seconds(work_db: Path, results: list[dict[str, Any]]) -> tuple[float, int]:
    con = duckdb.connect(str(work_db), read_only=True)
    seconds, count = 0.0, 0
    for result in results:
        sql = result.get("compiled_code")
        if not result["unique_id"].startswith("test.") or not sql:
            continue
        began = time.perf_counter()
        con.execute(f"select count(*) from ({sql}) as failures").fetchall()
        seconds += time.perf_counter() - began
        count += 1
    con.close()
    return seconds, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-db", type=Path, required=True)
    args = parser.parse_args()
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        work_db = folder / "siyu.work.duckdb"
        shutil.copy2(args.work_db, work_db)
        build = dbt_build_args(DbtVars(str(work_db), "Asia/Shanghai", DEFAULT_DUCKDB_MEMORY_LIMIT))
        env = os.environ | {"DBT_LOG_FORMAT": "json", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
        target = fresh_target(folder, "cli")
        for label in (
            "1a. dbt build, a process, parsing the copy's --vars",
            "1b. dbt build, a process (as a daily refresh runs it)",
        ):
            began = time.perf_counter()
            subprocess.run(
                [dbt_executable(), *build, "--target-path", str(target), "--log-path", str(target)],
                cwd=DBT_PROJECT_DIR,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            timed(label, figures, began)
        run_results = json.loads((target / "run_results.json").read_text())
        nodes = len(run_results["results"])
        node_seconds = sum(r["execution_time"] for r in run_results["results"])
        sql_seconds, tests = tests_sql_seconds(work_db, run_results["results"])

        began = time.perf_counter()
        from dbt.cli.main import dbtRunner

        began = timed("2a. import dbt in this process", figures, began)
        project = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
        common = [*project, "--target-path", str(target), "--log-path", str(target)]
        parsed = dbtRunner().invoke(["parse", *common, *build[-2:], "--log-level", "none"])
        if not parsed.success:
            raise SystemExit(f"dbt parse failed: {parsed.exception}")
        manifest = parsed.result
        began = timed("2b. dbt parse (partial parsing)", figures, began)
        dbtRunner(manifest=manifest).invoke([*build, *common])
        began = timed("2c. dbt build on that manifest, stdout log", figures, began)
        dbtRunner(manifest=manifest).invoke([*build, *common, "--log-level", "none"])
        began = timed("2d. the same, no stdout log", figures, began)
        outcome = dbtRunner(manifest=manifest).invoke(
            [*build, *common, "--log-level", "none", "--no-write-json"]
        )
        timed("2e. the same, no stdout log, no JSON artifacts", figures, began)
        if not outcome.success:
            raise SystemExit(f"dbt build failed: {outcome.exception}")

    print(
        f"{nodes} nodes (1b); their execution times sum to {node_seconds:.1f} s (2 threads). "
        f"The {tests} tests' SQL, run directly in DuckDB, takes {sql_seconds:.2f} s."
    )
    print(
        f"dbt's own time per node, in process without logs or artifacts: "
        f"{1000 * figures['2e. the same, no stdout log, no JSON artifacts'] / nodes:.0f} ms"
    )


if __name__ == "__main__":
    main()
