"""The dbt data tests of a daily build, run in one batch in DuckDB instead of one dbt node each.

dbt spends ~50 ms of its own on every node (compiling, building its context, events, artifacts)
around a test's few milliseconds of SQL: a daily build's 175 tests cost ~5 s of node time, their
SQL under 1 s. A build that runs the tests through dbt keeps each test's compiled SQL and its
configuration (`data_tests.json` in the build's target folder), under a key that covers whatever
decides them: the dbt project's files, dbt's vars and dbt's version. A later build under the same
key leaves the tests out of `dbt build`, then runs that SQL here, wrapped as dbt's
`get_test_sql` wraps it (fail_calc, warn_if, error_if, limit), and judges each result as dbt
does (severity). Every test still runs on every build, over the whole table it tests.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb

from ingestion.content_hash import content_digest, tree_digest
from orchestration.transform.cli_args import DbtVars
from orchestration.transform.project import project_files

COMPILED_TESTS_FILE = "data_tests.json"
RESULTS_FILE = "data_test_results.json"
# what decides a test's compiled SQL: everything dbt reads (tests included), and the profile
TEST_INPUTS = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests")

Status = Literal["pass", "warn", "fail", "error"]


@dataclass(frozen=True)
class CompiledDataTest:
    """A dbt data test as dbt compiled it, with the configuration that judges its result."""

    unique_id: str
    sql: str
    fail_calc: str = "count(*)"
    warn_if: str = "!= 0"
    error_if: str = "!= 0"
    severity: str = "error"
    limit: int | None = None

    def wrapped_sql(self) -> str:
        """The test's SQL as dbt's default `get_test_sql` runs it."""
        limit = "" if self.limit is None else f"\n  limit {int(self.limit)}"
        return (
            f"select {self.fail_calc} as failures, "
            f"{self.fail_calc} {self.warn_if} as should_warn, "
            f"{self.fail_calc} {self.error_if} as should_error\n"
            f"from (\n{self.sql}{limit}\n) as dbt_internal_test"
        )


@dataclass(frozen=True)
class DataTestResult:
    unique_id: str
    status: Status
    failures: int | None
    message: str
    execution_time: float


def judge(severity: str, should_warn: bool, should_error: bool) -> Status:
    """dbt's verdict on a test's figures: fail only at severity error, else warn."""
    if severity.lower() == "error" and should_error:
        return "fail"
    if should_warn:
        return "warn"
    return "pass"


def data_tests_key(project_dir: Path, dbt_vars: DbtVars, dbt_version: str) -> str:
    """A digest of everything that decides the tests' compiled SQL."""
    files = tree_digest(project_dir, project_files(project_dir, TEST_INPUTS))
    settings = json.dumps({"vars": dbt_vars.as_dict(), "dbt": dbt_version}, sort_keys=True)
    return content_digest(files.encode(), settings.encode())


def compiled_tests_of_build(target_path: Path) -> list[CompiledDataTest]:
    """The data tests a dbt build ran, from its artifacts (run_results.json holds the compiled
    SQL, manifest.json the configuration)."""
    results = json.loads((target_path / "run_results.json").read_text(encoding="utf-8"))
    nodes = json.loads((target_path / "manifest.json").read_text(encoding="utf-8"))["nodes"]
    tests = []
    for result in results["results"]:
        unique_id = result["unique_id"]
        node = nodes.get(unique_id, {})
        if node.get("resource_type") != "test" or not result.get("compiled_code"):
            continue
        config = node.get("config", {})
        tests.append(
            CompiledDataTest(
                unique_id=unique_id,
                sql=result["compiled_code"],
                fail_calc=config.get("fail_calc") or "count(*)",
                warn_if=config.get("warn_if") or "!= 0",
                error_if=config.get("error_if") or "!= 0",
                severity=str(config.get("severity") or "error"),
                limit=config.get("limit"),
            )
        )
    return sorted(tests, key=lambda test: test.unique_id)


def save_compiled_tests(target_path: Path, key: str, tests: Iterable[CompiledDataTest]) -> None:
    payload = {"key": key, "tests": [asdict(test) for test in tests]}
    temporary = target_path / f"{COMPILED_TESTS_FILE}.tmp"
    temporary.write_text(json.dumps(payload), encoding="utf-8")
    temporary.replace(target_path / COMPILED_TESTS_FILE)


def load_compiled_tests(target_path: Path, key: str) -> list[CompiledDataTest] | None:
    """The tests kept under `key`, or None when there are none (first build, changed project)."""
    try:
        payload = json.loads((target_path / COMPILED_TESTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if payload.get("key") != key or not payload.get("tests"):
        return None
    return [CompiledDataTest(**test) for test in payload["tests"]]


def run_data_test(con: duckdb.DuckDBPyConnection, test: CompiledDataTest) -> DataTestResult:
    began = time.perf_counter()
    try:
        rows = con.execute(test.wrapped_sql()).fetchall()
    except duckdb.Error as error:
        message = str(error).splitlines()[0]
        return DataTestResult(test.unique_id, "error", None, message, time.perf_counter() - began)
    seconds = time.perf_counter() - began
    if len(rows) != 1:
        message = f"the test returned {len(rows)} rows of figures, not 1"
        return DataTestResult(test.unique_id, "error", None, message, seconds)
    failures, should_warn, should_error = rows[0]
    status = judge(test.severity, bool(should_warn), bool(should_error))
    condition = test.error_if if status == "fail" else test.warn_if
    message = (
        "" if status == "pass" else f"Got {failures} results, configured to {status} if {condition}"
    )
    return DataTestResult(test.unique_id, status, failures, message, seconds)


def run_data_tests(
    con: duckdb.DuckDBPyConnection, tests: Iterable[CompiledDataTest]
) -> list[DataTestResult]:
    return [run_data_test(con, test) for test in tests]


def save_results(target_path: Path, results: Iterable[DataTestResult]) -> None:
    """The results beside dbt's run_results.json (the refresh's time per stage reads both)."""
    payload = {"results": [asdict(result) for result in results]}
    (target_path / RESULTS_FILE).write_text(json.dumps(payload), encoding="utf-8")


def check_metadata(result: DataTestResult) -> Mapping[str, Any]:
    """What dagster-dbt records on a test's check, under the same names."""
    metadata: dict[str, Any] = {
        "unique_id": result.unique_id,
        "status": result.status,
        "Execution Duration": round(result.execution_time, 4),
    }
    if result.failures is not None:
        metadata["dagster_dbt/failed_row_count"] = result.failures
    if result.message:
        metadata["message"] = result.message
    return metadata


def downstream_of_failures(
    nodes: Mapping[str, Mapping[str, Any]], failed_tests: Iterable[str]
) -> set[str]:
    """The nodes dbt's build would have skipped: everything downstream of a node whose test
    failed (the tested node itself was built before its test, as in dbt)."""
    children: dict[str, set[str]] = {}
    for unique_id, props in nodes.items():
        for parent in props.get("depends_on", {}).get("nodes", []):
            children.setdefault(parent, set()).add(unique_id)
    tested = {
        parent
        for test in failed_tests
        for parent in nodes.get(test, {}).get("depends_on", {}).get("nodes", [])
    }
    held: set[str] = set()
    frontier = [child for node in tested for child in children.get(node, ())]
    while frontier:
        node = frontier.pop()
        if node not in held:
            held.add(node)
            frontier += children.get(node, ())
    return {node for node in held if not node.startswith("test.")}
