"""The `siyu` command as a person runs it: a real process, real exit codes and messages."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.helpers import FIXTURE_LANDING

pytestmark = pytest.mark.e2e


def siyu(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SIYU_")}
    # the fixture quarantines 1 of 3 visits of a day on purpose (see tests/conftest.py)
    environment |= {"SIYU_MAX_QUARANTINE_SHARE": "0.5"} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_refresh_one_day_range_then_everything(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURE_LANDING, landing)
    warehouse = tmp_path / "out" / "siyu.duckdb"
    common = ["--landing", str(landing), "--warehouse", str(warehouse)]

    first = siyu(
        "refresh", *common, "--date", "2026-10-30", cwd=tmp_path, env={"SIYU_PII_SALT": "s"}
    )
    assert first.returncode == 0, first.stderr
    assert "Refresh succeeded" in first.stdout
    assert "raw/mall_orders: 1 files (1 loaded, 0 unchanged)" in first.stdout
    with duckdb.connect(str(warehouse), read_only=True) as con:
        # only D1's daily files (and the whole-file registry and rules) are loaded so far
        assert con.execute(
            "select min(date), max(date) from marts.order_conversion"
        ).fetchone() == (date(2026, 10, 30), date(2026, 10, 30))

    second = siyu("refresh", *common, cwd=tmp_path, env={"SIYU_PII_SALT": "s"})
    assert second.returncode == 0, second.stderr
    assert "raw/mall_orders: 6 files (5 loaded, 1 unchanged)" in second.stdout
    # a range run materializes every day's partition: the report is printed once per source
    assert second.stdout.count("raw/mall_orders:") == 1
    # progress while it runs: the last step's line, counted against the job's steps
    last_step = re.search(
        r"serving__kpi_report done in [\d.]+ s \((\d+) of (\d+) steps\)", second.stdout
    )
    assert last_step is not None and last_step[1] == last_step[2], second.stdout
    # the day range first; not a terminal: plain lines, no bar redrawn in place
    assert "Business days 2026-10-30 .. 2026-12-01 (33 days), " in second.stdout
    assert "\r" not in second.stdout and "\x1b" not in second.stdout
    # the report, downstream of the publish, is the run's last step
    assert second.stdout.index("serving__kpi_report done") < second.stdout.index("Refreshed")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        # 10-30 .. 11-30 (the article_detail fetch of 11-30 ends the calendar)
        assert (
            con.execute("select count(*) from marts.order_conversion").fetchone()[0] == 33
        )  # 10-30 .. 12-01
    assert (tmp_path / "out" / "siyu.work.duckdb").exists()


def test_refresh_explains_a_missing_landing_folder(tmp_path: Path) -> None:
    result = siyu("refresh", "--landing", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert result.returncode == 2
    assert "the landing folder" in result.stderr and "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_refresh_rejects_date_and_range_together(tmp_path: Path) -> None:
    result = siyu(
        "refresh",
        "--landing",
        str(tmp_path),
        "--date",
        "2026-11-01",
        "--start",
        "2026-11-01",
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "--date or --start/--end" in result.stderr


def test_generate_writes_a_landing_zone(tmp_path: Path) -> None:
    result = siyu(
        "generate",
        "--out",
        str(tmp_path / "g"),
        "--days",
        "3",
        "--scale",
        "0.01",
        "--seed",
        "1",
        "--start",
        "2026-11-01",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "2026-11-01 .. 2026-11-03" in result.stdout
    assert (tmp_path / "g" / "mall" / "orders" / "2026-11-03.csv").exists()


def test_first_refresh_of_generated_dirty_data_quarantines_and_succeeds(tmp_path: Path) -> None:
    # the README's way to see the quarantine, on a new working database with the default 5 %
    generated = siyu(
        "generate",
        "--out",
        str(tmp_path / "landing"),
        "--days",
        "4",
        "--scale",
        "0.05",
        "--seed",
        "21",
        "--dirty-share",
        "0.01",
        cwd=tmp_path,
    )
    assert generated.returncode == 0, generated.stderr
    warehouse = tmp_path / "wh" / "siyu.duckdb"
    result = siyu(
        "refresh",
        "--landing",
        str(tmp_path / "landing"),
        "--warehouse",
        str(warehouse),
        cwd=tmp_path,
        env={"SIYU_MAX_QUARANTINE_SHARE": "0.05"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "Refresh succeeded" in result.stdout
    quarantined = {}
    for line in result.stdout.splitlines():
        match = re.match(r"raw/(\w+): .* (\d+) rows loaded, (\d+) rows quarantined", line)
        if match:
            quarantined[match[1]] = (int(match[2]), int(match[3]))
    assert quarantined["mall_orders"][1] > 0 and quarantined["mall_visits"][1] > 0
    with duckdb.connect(str(tmp_path / "wh" / "siyu.work.duckdb"), read_only=True) as con:
        for source, (loaded, rejected) in quarantined.items():
            assert con.execute(
                "select coalesce(sum(rows_loaded), 0), coalesce(sum(rows_rejected), 0), "
                "coalesce(sum(rows_landed), 0) from raw.landed_files where source = ?",
                [source],
            ).fetchall() == [(loaded, rejected, loaded + rejected)], source
            assert con.execute(
                "select count(*) from quarantine.rejected_rows where source = ?", [source]
            ).fetchall() == [(rejected,)], source
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select count(*) from quarantine.rejected_rows where source = 'mall_orders'"
        ).fetchall()
    assert rows == [(quarantined["mall_orders"][1],)]


def assert_one_line_per_error(stderr: str) -> None:
    assert "Traceback" not in stderr
    assert 'File "' not in stderr, stderr


def test_an_error_inside_the_run_is_one_line_with_the_log(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURE_LANDING, landing)
    (tmp_path / "wh").mkdir()
    (tmp_path / "wh" / "siyu.work.duckdb").write_text("not a DuckDB database")
    result = siyu(
        "refresh",
        "--landing",
        str(landing),
        "--warehouse",
        str(tmp_path / "wh" / "siyu.duckdb"),
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert_one_line_per_error(result.stderr)
    log = tmp_path / "logs" / "refresh.log"
    failures = [line for line in result.stderr.splitlines() if " failed: " in line]
    # every raw step failed the same way: one line names them, the error and the log
    assert len(failures) == 1, result.stderr
    assert failures[0].strip().startswith("steps raw__channels_registry, ")
    assert "IOException: IO Error: " in failures[0] and "not a valid DuckDB database" in failures[0]
    assert f"(full trace in {log})" in failures[0]
    assert "Stack Trace:" in log.read_text() and "duckdb.connect" in log.read_text()


def test_an_error_outside_the_run_is_one_line_with_the_log(tmp_path: Path) -> None:
    (tmp_path / "a_file").write_text("")
    result = siyu("generate", "--out", str(tmp_path / "a_file" / "landing"), cwd=tmp_path)
    assert result.returncode == 1
    assert_one_line_per_error(result.stderr)
    log = tmp_path / "data" / "logs" / "siyu.log"
    assert result.stderr.strip().splitlines() == [
        f"siyu generate failed: NotADirectoryError: [Errno 20] Not a directory: "
        f"'{tmp_path / 'a_file' / 'landing'}' (full trace in {log})"
    ]
    assert "Traceback (most recent call last)" in log.read_text()


def dbt_is_building(session: int) -> bool:
    """Whether a `dbt build` runs among the processes of a session (a terminal's job)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            in_session = os.getsid(int(entry.name)) == session
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if in_session and b"dbt" in command and b"build" in command:
            return True
    return False


def test_ctrl_c_during_the_build_stops_the_run_without_a_trace(tmp_path: Path) -> None:
    # Ctrl-C sends SIGINT to every process of the terminal's job: Siyu's, dbt's and those
    # Dagster starts beside a step (a log mirror and its watcher); none may print a trace
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURE_LANDING, landing)
    warehouse = tmp_path / "out" / "siyu.duckdb"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SIYU_")}
    environment |= {"SIYU_PII_SALT": "s", "SIYU_MAX_QUARANTINE_SHARE": "0.5"}
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "refresh", "--landing", str(landing)]
        + ["--warehouse", str(warehouse)],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        while not dbt_is_building(process.pid) and process.poll() is None:
            assert time.monotonic() < deadline, "dbt did not start within 5 minutes"
            time.sleep(0.2)
        os.killpg(process.pid, signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 1, stdout + stderr
    assert "Refresh FAILED; the serving file was not replaced." in stderr
    assert "Traceback" not in stdout + stderr
    assert "KeyboardInterrupt" not in stdout + stderr
    assert not warehouse.exists()
