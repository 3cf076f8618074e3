"""The KPI report on the fixture: one offline HTML file, built after every publish and by
`siyu report`, with figures computed by hand (see tests/fixtures/README.md)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from orchestration.serving.kpi_summary import kpi_summary_lines
from orchestration.serving.report import build_kpi_report, report_path
from tests.helpers import PipelineRun
from tests.test_cli import siyu

pytestmark = pytest.mark.e2e


def row_of(page: str, first_cell: str) -> str:
    """The text of the table row whose first cell is `first_cell`."""
    match = re.search(rf"<tr><td>{re.escape(first_cell)}</td>(.*?)</tr>", page)
    assert match, first_cell
    return re.sub(r"<[^>]+>", " | ", match[1])


def test_every_refresh_writes_the_report_beside_the_serving_file(
    fixture_run: PipelineRun,
) -> None:
    # the asset downstream of the publish ran in the fixture's refresh
    report = report_path(fixture_run.settings.warehouse_path)
    assert report.exists() and report.stat().st_size > 10_000


def test_the_report_is_offline_and_holds_every_section(
    tmp_path: Path, fixture_run: PipelineRun
) -> None:
    report = build_kpi_report(
        fixture_run.settings.warehouse_path,
        out_path=tmp_path / "report.html",
        work_db_path=fixture_run.settings.work_db_path,
    )
    page = report.path.read_text(encoding="utf-8")
    # self-contained: charts are inline SVG, nothing is fetched
    assert "<script" not in page and not re.search(r"(src|href)=[\"']https?://", page)
    assert page.count("<svg") >= 2
    for section in (
        "KPI scorecard",
        "Follower growth",
        "Channels, last 30 days",
        "Content, last 30 days",
        "Distributors, 2026-11-01",
        "Data quality",
    ):
        assert f"<h2>{section}</h2>" in page, section
    # as of 11-29, the last day with sessions (12-01 has orders only). Order conversion: 1/3 on
    # 10-30, 1 on 10-31 and 11-01, 0 on 11-06 and 11-29 (no visitors on the other days)
    assert str(report.as_of) == "2026-11-29"
    conversion = row_of(page, "order_conversion_rate")
    for shown in ("0.0%", "&gt;= 8.0%", "missed", "50.0%", "2 of 4 days", "3 of 5 days"):
        assert shown in conversion, (shown, conversion)
    # November's commissions: B1 earns 13.05, A1's clawback of 24.60 leaves it at -21.60
    assert "¥13.05" in row_of(page, "B1") and "-¥21.60" in row_of(page, "A1")
    # the visits row quarantined in the file of 10-31 and the build's warnings
    assert "| 1 |" in row_of(page, "mall_visits")
    assert "channel code missing from the channel registry: &#x27;ghost&#x27;" in page
    assert "| order_conversion_rate | 0.0% | >= 8.0% | missed |" in report.markdown
    assert "Quarantined rows (30 days): 1" in report.markdown


def test_report_command_and_the_demo_summary(tmp_path: Path, fixture_run: PipelineRun) -> None:
    out = tmp_path / "kpi.html"
    done = siyu(
        "report",
        "--warehouse",
        fixture_run.settings.warehouse_path,
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert f"KPI report as of 2026-11-29: {out}" in done.stdout and out.exists()
    missing = siyu("report", "--warehouse", str(tmp_path / "none.duckdb"), cwd=tmp_path)
    assert missing.returncode == 1 and "no serving file" in missing.stderr
    assert "Traceback" not in missing.stderr
    # what `siyu demo` ends with: the last 7 days against their targets
    lines = kpi_summary_lines(fixture_run.settings.warehouse_path)
    assert lines[0].startswith("KPIs of the last 7 days (2026-11-23 .. 2026-11-29)")
    (conversion,) = [line for line in lines if line.strip().startswith("order_conversion_rate")]
    assert conversion.split()[-3:] == ["✗", ">=", "8.0%"]
    with duckdb.connect(fixture_run.settings.warehouse_path, read_only=True) as con:
        assert con.execute("select count(*) from marts.kpi_scorecard").fetchone() == (198,)
