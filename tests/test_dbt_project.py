"""Preparing the dbt project: the manifest every process loads the asset graph from."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.transform.project import DBT_PROJECT_DIR

PREPARE = """
import sys
from dagster_dbt import DbtProject
from orchestration.transform.project import prepared_dbt_project

with prepared_dbt_project(DbtProject(project_dir=sys.argv[1])) as project:
    manifest = project.manifest_path
    print(manifest.stat().st_mtime_ns, len(manifest.read_bytes()))
"""


@pytest.mark.integration
def test_processes_that_find_no_manifest_at_once_all_read_a_whole_one(tmp_path: Path) -> None:
    """A fresh clone has no manifest; the test workers, `siyu ui` and `siyu refresh` may all
    start together. One parses, the others wait and read the same finished file, so all see
    one write of it (unguarded, each parses, the writes interleave and a reader can find broken
    JSON)."""
    project_dir = tmp_path / "dbt_project"
    shutil.copytree(
        DBT_PROJECT_DIR, project_dir, ignore=shutil.ignore_patterns("target", "logs", ".user.yml")
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", PREPARE, str(project_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [worker.communicate(timeout=300) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0, 0], [err for _, err in outputs]
    manifest = project_dir / "target" / "manifest.json"
    seen = {tuple(int(field) for field in out.split()[-2:]) for out, _ in outputs}
    assert seen == {(manifest.stat().st_mtime_ns, manifest.stat().st_size)}
    assert "model.siyu.kpi_scorecard" in json.loads(manifest.read_bytes())["nodes"]
