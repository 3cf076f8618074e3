"""`siyu docs`: dbt's static docs site beside the serving file, one offline HTML file."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from orchestration.runner import writer_lock
from tests.helpers import PipelineRun
from tests.test_cli import siyu

pytestmark = pytest.mark.e2e


def test_docs_site_shows_models_columns_and_lineage(
    tmp_path: Path, fixture_run: PipelineRun
) -> None:
    warehouse = tmp_path / "wh" / "siyu.duckdb"
    warehouse.parent.mkdir()
    shutil.copyfile(fixture_run.settings.warehouse_path, warehouse)
    shutil.copyfile(fixture_run.settings.work_db_path, tmp_path / "wh" / "siyu.work.duckdb")

    # while a refresh holds the working database, the command says so and writes nothing
    with writer_lock(str(tmp_path / "wh" / "siyu.work.duckdb")):
        busy = siyu("docs", "--warehouse", str(warehouse), cwd=tmp_path)
    assert busy.returncode == 1 and "another refresh is writing" in busy.stderr
    assert "Traceback" not in busy.stderr and not (tmp_path / "wh" / "docs").exists()

    done = siyu("docs", "--warehouse", str(warehouse), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    index = tmp_path / "wh" / "docs" / "index.html"
    assert f"Docs site: {index}" in done.stdout
    site = index.read_text()
    # one file: no script or stylesheet from a network
    assert not re.search(r"<script[^>]+src=\"https?://", site)
    assert not re.search(r"<link[^>]+stylesheet[^>]+href=\"https?://", site)
    # the landing sources, the staging model that reads one, a mart and a column description
    for node in ("source.siyu.mall.orders", "model.siyu.stg_mall__orders"):
        assert node in site
    assert "model.siyu.order_conversion" in site
    assert "paid_orders / visitors (fraction" in site
    # the catalog came from the working database: the marts' column types
    assert "DECIMAL(18,2)" in site
