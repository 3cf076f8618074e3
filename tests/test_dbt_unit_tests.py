"""dbt's unit tests: the models' SQL on mock rows (the rules of the marts, one by one).

They check the SQL, not the data, so the refresh builds without them; they run here, against
a working database the fixture built (dbt needs the models' columns)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from orchestration.transform.project import DBT_PROJECT_DIR, dbt_executable
from tests.helpers import PipelineRun

pytestmark = pytest.mark.e2e


def test_every_dbt_unit_test_passes(tmp_path: Path, fixture_run: PipelineRun) -> None:
    work_db = tmp_path / "siyu.work.duckdb"
    shutil.copyfile(fixture_run.settings.work_db_path, work_db)
    result = subprocess.run(
        [
            dbt_executable(),
            "test",
            "--select",
            "test_type:unit",
            "--vars",
            json.dumps({"work_db_path": str(work_db), "business_timezone": "Asia/Shanghai"}),
            "--target-path",
            str(tmp_path / "target"),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
        ],
        cwd=DBT_PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    assert len(results) >= 5 and {r["status"] for r in results} == {"pass"}
