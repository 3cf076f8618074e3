"""The published file opened read-only by the clients analysts and BI tools use, each installed
into a throwaway environment cached between test runs (`client_environment`): the oldest
supported DuckDB (1.1.3, what BI tools bundle), the DuckDB CLI from PyPI, SQLAlchemy 1.4
with duckdb-engine (what Superset and JupySQL use), and Evidence's DuckDB connector from npm
(Node.js)."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import duckdb
import pytest

from tests.helpers import PipelineRun, client_environment, node_client_environment

pytestmark = [pytest.mark.e2e, pytest.mark.clients]

GMV = "select count(*) as days, sum(gmv) as gmv from marts.average_order_value"


def run_python(venv: Path, code: str, *args: str) -> dict:
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_oldest_duckdb_reads_the_marts_and_their_descriptions(
    fixture_run: PipelineRun,
) -> None:
    venv = client_environment("duckdb-1.1.3", ("duckdb==1.1.3",))
    seen = run_python(
        venv,
        """
        import duckdb, json, sys
        con = duckdb.connect(sys.argv[1], read_only=True)
        public = "schema_name in ('marts', 'quarantine')"
        print(json.dumps({
            "version": duckdb.__version__,
            "gmv": str(con.execute(sys.argv[2]).fetchone()),
            "tables": con.execute(
                f"select count(*) from duckdb_tables() where {public}").fetchone()[0],
            "columns": con.execute(
                f"select count(*) from duckdb_columns() where {public}").fetchone()[0],
            "undocumented": con.execute(
                f"select schema_name || '.' || table_name from duckdb_tables() "
                f"where {public} and coalesce(comment, '') = '' union all "
                f"select schema_name || '.' || table_name || '.' || column_name "
                f"from duckdb_columns() where {public} and coalesce(comment, '') = '' "
                "order by 1").fetchall(),
            "rate_comment": con.execute(
                "select comment from duckdb_columns() where schema_name = 'marts' and "
                "table_name = 'order_conversion' and column_name = 'order_conversion_rate'"
            ).fetchone()[0],
        }))
        """,
        fixture_run.settings.warehouse_path,
        GMV,
    )
    assert (seen["version"], seen["gmv"]) == ("1.1.3", "(33, Decimal('4804.99'))")
    # every public table and column describes itself, in the DuckDB BI tools bundle
    assert seen["tables"] >= 24 and seen["columns"] > 200
    assert seen["undocumented"] == []
    assert "fraction" in seen["rate_comment"]


def test_the_duckdb_cli_reads_read_only_and_cannot_write(fixture_run: PipelineRun) -> None:
    venv = client_environment("duckdb-cli", ("duckdb-cli",))
    warehouse = fixture_run.settings.warehouse_path
    cli = str(venv / "bin" / "duckdb")
    read = subprocess.run(
        [cli, "-readonly", "-json", warehouse, "-c", GMV],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert read.returncode == 0, read.stderr
    assert json.loads(read.stdout) == [{"days": 33, "gmv": "4804.99"}]  # exact: a string
    # read-only: a client can never lock the refresh out or leave a WAL beside the file
    write = subprocess.run(
        [cli, "-readonly", warehouse, "-c", "create table marts.scratch (a integer)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert write.returncode != 0 and "read-only" in (write.stdout + write.stderr).lower()
    assert not Path(f"{warehouse}.wal").exists()


def test_sqlalchemy_with_duckdb_engine_queries_and_inspects(fixture_run: PipelineRun) -> None:
    venv = client_environment(
        "duckdb-engine", ("sqlalchemy>=1.4,<2", "duckdb-engine", "duckdb==1.1.3")
    )
    seen = run_python(
        venv,
        """
        import json, sys
        import sqlalchemy as sa
        # what Superset's connection form holds: the URI and connect_args read_only
        engine = sa.create_engine(f"duckdb:///{sys.argv[1]}", connect_args={"read_only": True})
        with engine.connect() as con:
            gmv = con.execute(sa.text(sys.argv[2])).fetchone()
        inspector = sa.inspect(engine)
        columns = {c["name"]: c for c in inspector.get_columns("order_conversion", schema="marts")}
        print(json.dumps({
            "sqlalchemy": sa.__version__,
            "gmv": str(tuple(gmv)),
            "tables": inspector.get_table_names(schema="marts"),
            "comment": inspector.get_table_comment("order_conversion", schema="marts")["text"],
            "column_comment": columns["order_conversion_rate"]["comment"],
        }))
        """,
        fixture_run.settings.warehouse_path,
        GMV,
    )
    assert seen["sqlalchemy"].startswith("1.4.")
    assert seen["gmv"] == "(33, Decimal('4804.99'))"
    assert {"order_conversion", "kpi_scorecard", "publish_info"} <= set(seen["tables"])
    assert "Grain: date" in seen["comment"]
    assert "fraction" in seen["column_comment"]


# what `npm run sources` does with a DuckDB source: the connector's runQuery on the source
# folder's file (a symbolic link to the serving file, as the README suggests)
EVIDENCE_QUERY = """
import { createRequire } from "module";
const require = createRequire(process.cwd() + "/");
const runQuery = require("@evidence-dev/duckdb");
const [directory, filename, sql] = process.argv.slice(2);
const result = await runQuery(sql, { directory, filename });
const rows = [];
for await (const batch of result.rows()) rows.push(...batch);
console.log(JSON.stringify({ columns: result.columnTypes.map((c) => c.name), rows },
  (key, value) => (typeof value === "bigint" ? Number(value) : value)));
"""


def test_evidence_duckdb_connector_reads_the_file_through_a_source_link(
    tmp_path: Path, fixture_run: PipelineRun
) -> None:
    client = node_client_environment("evidence-duckdb", ("@evidence-dev/duckdb@2.0.1",))
    source = tmp_path / "sources" / "siyu"
    source.mkdir(parents=True)
    (source / "siyu.duckdb").symlink_to(fixture_run.settings.warehouse_path)
    script = tmp_path / "query.mjs"
    script.write_text(EVIDENCE_QUERY)
    sql = GMV.replace("sum(gmv)", "sum(gmv)::varchar")  # exact, as text
    # another reader holds the file meanwhile: a read-write open would fail on its lock
    with duckdb.connect(fixture_run.settings.warehouse_path, read_only=True):
        done = subprocess.run(
            ["node", str(script), str(source), "siyu.duckdb", sql],
            cwd=client,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "columns": ["days", "gmv"],
        "rows": [{"days": 33, "gmv": "4804.99"}],
    }
    # the connector opens a file READ_ONLY: no WAL, and the file is unchanged
    assert not Path(f"{fixture_run.settings.warehouse_path}.wal").exists()
