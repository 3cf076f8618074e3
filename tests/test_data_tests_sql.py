"""The dbt data tests run apart: dbt's wrapping of a test's SQL and its verdict, on DuckDB."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.transform.cli_args import DbtVars
from orchestration.transform.data_tests import (
    CompiledDataTest,
    data_tests_key,
    downstream_of_failures,
    judge,
    load_compiled_tests,
    run_data_test,
    save_compiled_tests,
)

pytestmark = pytest.mark.unit

DUPLICATES = "select kpi from t group by kpi having count(*) > 1"


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("create table t as select * from (values ('a'), ('a'), ('b'), ('b'), ('c')) v(kpi)")
    return con


def test_judge_fails_only_at_severity_error() -> None:
    assert judge("error", should_warn=True, should_error=True) == "fail"
    assert judge("ERROR", should_warn=True, should_error=False) == "warn"
    assert judge("warn", should_warn=True, should_error=True) == "warn"
    assert judge("error", should_warn=False, should_error=False) == "pass"


def test_failures_are_counted_as_dbt_wraps_the_sql(con: duckdb.DuckDBPyConnection) -> None:
    result = run_data_test(con, CompiledDataTest("test.siyu.unique_t_kpi", DUPLICATES))
    assert (result.status, result.failures) == ("fail", 2)
    assert result.message == "Got 2 results, configured to fail if != 0"
    # error_if / warn_if thresholds, severity warn, limit: as dbt's get_test_sql applies them
    lenient = CompiledDataTest("t2", DUPLICATES, error_if="> 2", warn_if="> 1")
    assert run_data_test(con, lenient).status == "warn"
    assert run_data_test(con, CompiledDataTest("t3", DUPLICATES, severity="warn")).status == "warn"
    assert run_data_test(con, CompiledDataTest("t4", DUPLICATES, limit=1)).failures == 1
    none = "select kpi from t where kpi = 'z'"
    assert run_data_test(con, CompiledDataTest("t5", none)).status == "pass"


def test_sql_that_fails_is_an_error_not_a_pass(con: duckdb.DuckDBPyConnection) -> None:
    result = run_data_test(con, CompiledDataTest("t", "select * from missing_table"))
    assert result.status == "error" and "missing_table" in result.message


def test_kept_tests_are_used_only_under_their_key(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: p\n")
    singular = project / "tests" / "assert_x.sql"
    singular.write_text("select 1 where false")
    dbt_vars = DbtVars("/w/siyu.work.duckdb", "Asia/Shanghai", "2GB")
    key = data_tests_key(project, dbt_vars, "1.11.16")
    tests = [CompiledDataTest("test.p.assert_x", "select 1 where false")]
    save_compiled_tests(tmp_path, key, tests)
    assert load_compiled_tests(tmp_path, key) == tests
    # a changed test, other vars (another working database) or another dbt: not the same SQL
    assert data_tests_key(project, dbt_vars, "1.11.17") != key
    other_db = DbtVars("/other/siyu.work.duckdb", "Asia/Shanghai", "2GB")
    assert data_tests_key(project, other_db, "1.11.16") != key
    singular.write_text("select 2 where false")
    changed = data_tests_key(project, dbt_vars, "1.11.16")
    assert changed != key and load_compiled_tests(tmp_path, changed) is None


def test_what_depends_on_a_failed_tests_model_is_held_as_dbt_skips_it() -> None:
    def node(*parents: str) -> dict:
        return {"depends_on": {"nodes": list(parents)}}

    nodes = {
        "seed.p.targets": node(),
        "model.p.orders": node(),
        "model.p.scorecard": node("seed.p.targets", "model.p.orders"),
        "model.p.report": node("model.p.scorecard"),
        "model.p.funnel": node("model.p.orders"),
        "test.p.unique_targets": node("seed.p.targets"),
        "test.p.not_null_report": node("model.p.report"),
    }
    assert downstream_of_failures(nodes, ["test.p.unique_targets"]) == {
        "model.p.scorecard",
        "model.p.report",
    }
    assert downstream_of_failures(nodes, []) == set()
