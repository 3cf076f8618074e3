"""Run a refresh in-process, as `siyu refresh` and `siyu demo` do: the business days it covers,
one writer at a time, the Dagster instance, and the same job the schedule runs.

The job's and dbt's output, every trace included, goes to the refresh log; the caller gets a
`RefreshOutcome` to print.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from dagster import DagsterEventType, DagsterInstance
from dagster._core.instance.ref import InstanceRef
from dagster._core.utils import make_new_run_id

from connectors.wechat.config import NO_CREDENTIALS
from ingestion.loading import discover_landing, landed_days
from ingestion.schemas import SOURCES
from orchestration.definitions import build_definitions
from orchestration.fetch.assets import wechat_credentials_resource
from orchestration.jobs import REFRESH_JOB_NAME
from orchestration.partitions import FIRST_PARTITION, last_complete_day, partition_key_range_tags
from orchestration.run_report import (
    RefreshOutcome,
    data_quality_warning_lines,
    failure_lines,
    fetch_summary_lines,
    load_summary_lines,
    stage_seconds,
    warning_lines,
)
from orchestration.settings import SiyuSettings
from orchestration.transform.assets import DBT_ASSETS_NAME
from orchestration.transform.data_tests import RESULTS_FILE as DATA_TEST_RESULTS_FILE
from orchestration.transform.project import build_target_path

SIYU_WROTE = "# Written by siyu."


def dagster_yaml(home: Path) -> str:
    """The instance settings Siyu writes into DAGSTER_HOME."""
    runs = (home / "history" / "runs").resolve()
    return f"""{SIYU_WROTE} Runs writing the working DuckDB (tag siyu/working_database) are
# queued one at a time: DuckDB allows one writer per file.
concurrency:
  runs:
    tag_concurrency_limits:
      - key: "siyu/working_database"
        limit: 1
telemetry:
  enabled: false
# Dagster's SQLite event log in Dagster's place, with its connections kept open (about 5 s of a
# daily refresh otherwise): see orchestration/event_log.py
event_log_storage:
  module: orchestration.event_log
  class: KeptConnectionsSqliteEventLogStorage
  config:
    base_dir: "{runs}/"
"""


@contextlib.contextmanager
def stderr_of_subprocesses_to(log: TextIO) -> Iterator[None]:
    """Point file descriptor 2 at the log while the job runs, so the processes Dagster starts
    (a step's log mirror and its watcher, which a Ctrl-C interrupts with a trace of its own)
    write their errors there, as Python's own stderr is (`contextlib.redirect_stderr` reaches
    no subprocess). The terminal keeps file descriptor 1: the progress lines."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to point elsewhere
        yield
        return
    log.flush()
    os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class WriterBusyError(RuntimeError):
    """Another refresh holds the working database."""


def refresh_window(
    landing_dir: Path, start: date | None, end: date | None, last_day: date
) -> tuple[date, date]:
    """The partitions [start, end] a refresh covers: the given days, else every landed day, up
    to `last_day` (yesterday); raises ValueError with a readable reason when there is none."""
    first_partition = date.fromisoformat(FIRST_PARTITION)
    if start is None or end is None:
        days = landed_days(discover_landing(landing_dir))
        if not days:
            raise ValueError(f"the landing folder {landing_dir} has no daily file")
        start, end = start or days[0], end or days[-1]
    if start > end:
        raise ValueError(f"the range {start} .. {end} is empty")
    if start < first_partition:
        raise ValueError(f"{start} is before the first partition {FIRST_PARTITION}")
    end = min(end, last_day)
    if start > end:
        raise ValueError(f"{start} is not over yet in the business time zone")
    return start, end


@contextlib.contextmanager
def writer_lock(work_db_path: str) -> Iterator[None]:
    """One refresh at a time on a working database (DuckDB allows one writer per file)."""
    lock_path = Path(f"{work_db_path}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WriterBusyError(
                f"another refresh is writing {work_db_path}; try again when it has finished"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare_dagster_home(home: Path) -> None:
    """Create DAGSTER_HOME's dagster.yaml when there is none, or replace one an older Siyu wrote
    (one a person wrote is theirs: it is left as it is)."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    wanted = dagster_yaml(home)
    found = config.read_text(encoding="utf-8") if config.exists() else None
    if found is None or (found.startswith(SIYU_WROTE) and found != wanted):
        config.write_text(wanted, encoding="utf-8")


def persistent_instance(settings: SiyuSettings) -> DagsterInstance:
    """The instance in the settings' DAGSTER_HOME, so CLI runs show in the UI."""
    home = Path(settings.dagster_home)
    prepare_dagster_home(home)
    return DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))


def step_durations(instance: DagsterInstance, run_id: str) -> dict[str, float]:
    """Seconds from each step's start to its end, from the run's event log."""
    started: dict[str, float] = {}
    durations: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type_value == "STEP_START":
            started[event.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            begin = started.get(event.step_key, entry.timestamp)
            durations[event.step_key] = entry.timestamp - begin
    return durations


def dbt_run_results(settings: SiyuSettings, since: float) -> dict[str, Any] | None:
    """dbt's run_results.json of a build that ran after `since`, if any, with the results of the
    data tests the build ran apart (`orchestration.transform.data_tests`)."""
    target = build_target_path(settings.work_db_path)
    found: dict[str, Any] | None = None
    for name in ("run_results.json", DATA_TEST_RESULTS_FILE):
        path = target / name
        try:
            if path.stat().st_mtime < since:
                continue
            results = json.loads(path.read_text(encoding="utf-8"))["results"]
        except (OSError, ValueError, KeyError):
            continue
        found = found or {"results": []}
        found["results"] += results
    return found


ProgressPrinter = Callable[[str], None]
# how far the run is: steps finished, steps in all, the steps running now
StatusPrinter = Callable[[int, int, str], None]
_STEP_EVENTS = {
    DagsterEventType.STEP_START,
    DagsterEventType.STEP_SUCCESS,
    DagsterEventType.STEP_FAILURE,
}


class ProgressWatcher(threading.Thread):
    """Prints how far a run has got, from its event log (the run's own output goes to the log
    file): a line when a step that took a second or more ends, or fails, and one when a step
    has been running for `announce_after` seconds — a long refresh or backfill is never silent
    for long, a short one stays short."""

    def __init__(
        self,
        instance: DagsterInstance,
        run_id: str,
        steps: int,
        printer: ProgressPrinter,
        announce_after: float = 5.0,
        status: StatusPrinter | None = None,
    ) -> None:
        super().__init__(name="siyu-progress", daemon=True)
        self._instance, self._run_id, self._steps, self._printer = instance, run_id, steps, printer
        self._announce_after = announce_after
        self._status = status
        self._done = threading.Event()
        self._seen = 0
        self._running: dict[str, float] = {}  # step key -> when it started (event time)
        self._announced: set[str] = set()
        self._finished = 0
        self._began = time.time()

    def run(self) -> None:
        while not self._done.wait(1.0):
            self._poll()

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=5)
        self._poll()

    def _line(self, at: float, text: str) -> None:
        self._printer(f"  [{at - self._began:6.1f} s] {text}")

    def _poll(self) -> None:
        try:
            entries = self._instance.all_logs(self._run_id, of_type=_STEP_EVENTS)
        except Exception:  # the run's storage is not there yet: nothing to show
            return
        for entry in entries[self._seen :]:
            event = entry.dagster_event
            if event is None or event.step_key is None:
                continue
            step = event.step_key
            if event.event_type == DagsterEventType.STEP_START:
                self._running[step] = entry.timestamp
                continue
            self._finished += 1
            took = entry.timestamp - self._running.pop(step, entry.timestamp)
            failed = event.event_type == DagsterEventType.STEP_FAILURE
            if failed or took >= 1.0 or self._finished == self._steps:
                verdict = "FAILED" if failed else "done"
                self._line(
                    entry.timestamp,
                    f"{step} {verdict} in {took:.1f} s ({self._finished} of {self._steps} steps)",
                )
        self._seen = len(entries)
        if self._status is not None:
            self._status(self._finished, self._steps, ", ".join(sorted(self._running)))
        now = time.time()
        for step, since in self._running.items():
            if step not in self._announced and now - since >= self._announce_after:
                self._announced.add(step)
                self._line(now, f"{step} running ({self._finished} of {self._steps} steps done)")


def refresh_run_config(force_reload: bool = False, full_refresh: bool = False) -> dict[str, Any]:
    """Run config of the refresh job (the partitions say which days)."""
    ops: dict[str, Any] = {
        f"raw__{schema.name}": {"config": {"force_reload": force_reload}} for schema in SOURCES
    }
    ops[DBT_ASSETS_NAME] = {"config": {"full_refresh": full_refresh}}
    # the console logger writes into the refresh log (see run_refresh), not onto the terminal
    return {"ops": ops, "loggers": {"console": {"config": {"log_level": "INFO"}}}}


def run_refresh(
    settings: SiyuSettings,
    start: date | None = None,
    end: date | None = None,
    *,
    force_reload: bool = False,
    full_refresh: bool = False,
    fetch_from_wechat: bool = True,
    instance: DagsterInstance | None = None,
    progress: ProgressPrinter | None = None,
    status: StatusPrinter | None = None,
) -> RefreshOutcome:
    """Run the refresh job in-process for the business days [start, end] (all landed days when
    unset): one partition, or one run over a partition range (single-run backfill). With
    `fetch_from_wechat` and credentials in the environment, the job fetches from WeChat first;
    the days then default to yesterday's. `progress` gets the day range, then a line as a step
    ends (or runs long); `status`, how many steps are done and which are running."""
    wechat = wechat_credentials_resource(os.environ) if fetch_from_wechat else None
    yesterday = last_complete_day(datetime.now(tz=UTC), settings.business_timezone)
    if wechat is not None and start is None and end is None:
        start = end = yesterday
    try:
        first, last = refresh_window(Path(settings.landing_dir), start, end, yesterday)
    except ValueError as error:
        return RefreshOutcome(False, settings.warehouse_path, failure_lines=[str(error)])
    job = build_definitions(settings, wechat).resolve_job_def(REFRESH_JOB_NAME)
    log_path = settings.refresh_log_path
    log_path.parent.mkdir(parents=True, exist_ok=True)
    partition: dict[str, Any] = (
        {"partition_key": first.isoformat()}
        if first == last
        else {"tags": partition_key_range_tags(first, last)}
    )
    run_instance = instance or persistent_instance(settings)
    run_id = make_new_run_id()
    steps = len(job.nodes_in_topological_order)
    watcher = (
        ProgressWatcher(run_instance, run_id, steps, progress, status=status)
        if progress is not None
        else None
    )
    if progress is not None:
        days = (last - first).days + 1
        progress(f"Business days {first} .. {last} ({days} day{'s' * (days > 1)}), {steps} steps")
    started = time.time()
    try:
        with writer_lock(settings.work_db_path):
            # Dagster's and dbt's output (with every trace) goes to the log file; the terminal
            # gets the summary, and one line per failure that points to the log
            with (
                open(log_path, "a", encoding="utf-8") as log,
                contextlib.redirect_stdout(log),
                contextlib.redirect_stderr(log),
                stderr_of_subprocesses_to(log),
            ):
                if watcher is not None:
                    watcher.start()
                try:
                    result = job.execute_in_process(
                        run_config=refresh_run_config(force_reload, full_refresh),
                        instance=run_instance,
                        raise_on_error=False,
                        run_id=run_id,
                        **partition,
                    )
                finally:
                    if watcher is not None:
                        watcher.stop()
    except WriterBusyError as error:
        return RefreshOutcome(False, settings.warehouse_path, failure_lines=[str(error)])
    outcome = RefreshOutcome(
        success=result.success,
        warehouse_path=settings.warehouse_path,
        log_path=str(log_path),
        stage_seconds=stage_seconds(
            step_durations(run_instance, result.run_id),
            result,
            dbt_run_results(settings, since=started),
        )
        | {"total": round(time.time() - started, 2)},
    )
    outcome.stage_seconds["other"] = round(
        outcome.stage_seconds["total"]
        - sum(outcome.stage_seconds.get(s, 0) for s in ("fetch", "land", "dbt", "publish")),
        2,
    )
    window = first.isoformat() if first == last else f"{first} .. {last}"
    skipped = (
        [f"WeChat fetch skipped: {NO_CREDENTIALS}"] if fetch_from_wechat and not wechat else []
    )
    outcome.summary_lines = (
        [f"Refreshed business days {window}"]
        + skipped
        + fetch_summary_lines(result)
        + load_summary_lines(result)
        + warning_lines(result)
        + data_quality_warning_lines(settings.work_db_path)
    )
    if not result.success:
        outcome.failure_lines = failure_lines(result, log_path) or [
            f"the refresh run failed (see {log_path})"
        ]
    return outcome
