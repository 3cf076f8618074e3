"""`siyu`: the command line of the product (see README and spec/operations.md)."""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ingestion.queries import fetch_row, fetch_value
from orchestration.settings import (
    ENV_DAGSTER_HOME,
    RunSettings,
    resolve_settings,
)

DEMO_DAYS = 90
DEMO_SCALE = 0.05
DEMO_SEED = 7


@dataclass
class RefreshOutcome:
    """What a refresh did, in words a person can act on."""

    success: bool
    warehouse_path: str
    log_path: str = ""
    summary_lines: list[str] = field(default_factory=list)
    failure_lines: list[str] = field(default_factory=list)


def logs_dir_for(settings: RunSettings) -> Path:
    """`logs/` beside the warehouse folder (data/logs by default)."""
    return Path(settings.warehouse_path).parent.parent / "logs"


def refresh_log_path(settings: RunSettings) -> Path:
    return logs_dir_for(settings) / "refresh.log"


def dagster_home_for(settings: RunSettings, environment: dict[str, str]) -> Path:
    """DAGSTER_HOME when set, else `dagster_home/` beside the warehouse folder."""
    if environment.get(ENV_DAGSTER_HOME):
        return Path(environment[ENV_DAGSTER_HOME])
    return Path(settings.warehouse_path).parent.parent / "dagster_home"


def raw_load_run_config(
    force_reload: bool = False, full_refresh: bool = False
) -> dict[str, object]:
    """Run config of the refresh job (the partitions say which days)."""
    from ingestion.schemas import SOURCES

    ops: dict[str, object] = {
        f"raw__{schema.name}": {"config": {"force_reload": force_reload}} for schema in SOURCES
    }
    ops["siyu_dbt_models"] = {"config": {"full_refresh": full_refresh}}
    # the console logger writes into the run log (see run_refresh), not onto the terminal
    return {
        "ops": ops,
        "loggers": {"console": {"config": {"log_level": "INFO"}}},
    }


def refresh_window(
    landing_dir: Path, start: date | None, end: date | None, today_last_day: date
) -> tuple[date, date]:
    """The partitions [start, end] a refresh covers: the given days, else every landed day;
    raises ValueError with a readable reason when there is none."""
    from orchestration.partitions import FIRST_PARTITION

    first_partition = date.fromisoformat(FIRST_PARTITION)
    if start is None or end is None:
        from ingestion.loading import discover_landing, landed_days

        days = landed_days(discover_landing(landing_dir))
        if not days:
            raise ValueError(f"the landing folder {landing_dir} has no daily file")
        start, end = start or days[0], end or days[-1]
    if start > end:
        raise ValueError(f"the range {start} .. {end} is empty")
    if start < first_partition:
        raise ValueError(f"{start} is before the first partition {FIRST_PARTITION}")
    end = min(end, today_last_day)
    if start > end:
        raise ValueError(f"{start} is not over yet in the business time zone")
    return start, end


@contextlib.contextmanager
def writer_lock(work_db_path: str):  # noqa: ANN201
    """One refresh at a time on a working database (DuckDB allows one writer per file)."""
    import fcntl

    lock_path = Path(f"{work_db_path}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(
                f"another refresh is writing {work_db_path}; try again when it has finished"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _check_evaluations(result: object) -> list[tuple[str, str, bool, str, str]]:
    """(asset, check, passed, severity, description) of every asset check in the run."""
    evaluations = []
    for event in result.all_events:  # type: ignore[attr-defined]
        if event.event_type_value != "ASSET_CHECK_EVALUATION":
            continue
        data = event.event_specific_data
        evaluations.append(
            (
                data.asset_key.to_user_string(),
                data.check_name,
                bool(data.passed),
                data.severity.value if data.severity else "ERROR",
                (data.description or "").strip(),
            )
        )
    return evaluations


def error_summary(error: object) -> str:
    """`ErrorType: first line of the message` of the error a step raised, beneath Dagster's
    own wrapper ("Error occurred while executing op ...")."""
    innermost = error
    while getattr(innermost, "cause", None) is not None:
        innermost = innermost.cause  # type: ignore[attr-defined]
    message = (getattr(innermost, "message", "") or "").strip()
    first = message.splitlines()[0] if message else "unknown error"
    # "_duckdb.IOException: IO Error: ..." -> "IOException: IO Error: ..."
    kind, separator, rest = first.partition(": ")
    if separator and " " not in kind:
        first = f"{kind.rsplit('.', 1)[-1]}: {rest}"
    return first


def _failure_lines(result: object, log_path: Path) -> list[str]:
    """One line per failed blocking check, and one per distinct error of the failed steps
    (steps that failed the same way share a line); the traces go to the log."""
    lines: list[str] = []
    for asset_key, check, passed, severity, description in _check_evaluations(result):
        if not passed and severity == "ERROR":
            lines.append(f"check {asset_key} :: {check} failed: {description or 'see the UI'}")
    steps_by_error: dict[str, list[str]] = {}
    for event in result.all_events:  # type: ignore[attr-defined]
        if not (event.is_step_failure and event.step_failure_data is not None):
            continue
        error = event.step_failure_data.error
        if error is not None and "blocking asset check" in error.message and lines:
            continue  # already explained by the check lines above
        summary = error_summary(error) if error is not None else "unknown error"
        steps_by_error.setdefault(summary, []).append(str(event.step_key))
        if error is not None:
            with open(log_path, "a", encoding="utf-8") as log:
                log.write(f"\nstep {event.step_key} failed:\n{error.to_string()}\n")
    for summary, steps in steps_by_error.items():
        named = f"step {steps[0]}" if len(steps) == 1 else f"steps {', '.join(steps)}"
        lines.append(f"{named} failed: {summary} (full trace in {log_path})")
    return lines


def _warning_lines(result: object) -> list[str]:
    """Failed non-blocking checks of the raw sources (volume anomalies)."""
    return [
        f"warning {asset_key} :: {check}: {description}"
        for asset_key, check, passed, severity, description in _check_evaluations(result)
        if not passed and severity == "WARN" and asset_key.startswith("raw/")
    ]


def _load_summary_lines(result: object) -> list[str]:
    """One line per raw asset. A run over a range of days materializes each partition, every
    one with the same load report: it is summarised once."""
    lines: list[str] = []
    summarised: set[str] = set()
    for event in result.all_events:  # type: ignore[attr-defined]
        if not event.is_step_materialization:
            continue
        materialization = event.event_specific_data.materialization
        key = materialization.asset_key.to_user_string()
        metadata = materialization.metadata
        if key.startswith("raw/") and "rows_landed" in metadata and key not in summarised:
            summarised.add(key)
            value = {name: entry.value for name, entry in metadata.items()}
            line = (
                f"{key}: {value['files_seen']} files ({value['files_loaded']} loaded, "
                f"{value['files_unchanged']} unchanged), {value['rows_loaded']} rows loaded, "
                f"{value['rows_rejected']} rows quarantined"
            )
            lines.append(line)
            lines += [f"  rejected file {entry}" for entry in value["rejected_files"]]
    return lines


def run_refresh(
    settings: RunSettings,
    start: date | None = None,
    end: date | None = None,
    force_reload: bool = False,
    instance: object | None = None,
    full_refresh: bool = False,
) -> RefreshOutcome:
    """Run the refresh job in-process for the business days [start, end] (all landed days when
    unset): one partition, or one run over a partition range (single-run backfill)."""
    from datetime import UTC, datetime

    from orchestration.partitions import last_complete_day, partition_key_range_tags

    try:
        first, last = refresh_window(
            Path(settings.landing_dir), start, end, last_complete_day(datetime.now(tz=UTC))
        )
    except ValueError as error:
        return RefreshOutcome(False, settings.warehouse_path, failure_lines=[str(error)])
    os.environ.update(settings.as_environment())
    from dagster import DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    from orchestration.definitions import defs
    from orchestration.jobs import REFRESH_JOB_NAME

    if instance is None:
        home = dagster_home_for(settings, dict(os.environ))
        prepare_dagster_home(home)
        instance = DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    job = defs.resolve_job_def(REFRESH_JOB_NAME)
    log_path = refresh_log_path(settings)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    partition = (
        {"partition_key": first.isoformat()}
        if first == last
        else {"tags": partition_key_range_tags(first, last)}
    )
    try:
        with writer_lock(settings.work_db_path):
            # Dagster's and dbt's output (with every trace) goes to the log file; the terminal
            # gets the summary, and one line per failure that points to the log
            with (
                open(log_path, "a", encoding="utf-8") as log,
                contextlib.redirect_stdout(log),
                contextlib.redirect_stderr(log),
            ):
                result = job.execute_in_process(
                    run_config=raw_load_run_config(force_reload, full_refresh),
                    instance=instance,  # type: ignore[arg-type]
                    raise_on_error=False,
                    **partition,  # type: ignore[arg-type]
                )
    except RuntimeError as error:
        return RefreshOutcome(False, settings.warehouse_path, failure_lines=[str(error)])
    outcome = RefreshOutcome(
        success=result.success, warehouse_path=settings.warehouse_path, log_path=str(log_path)
    )
    window = first.isoformat() if first == last else f"{first} .. {last}"
    outcome.summary_lines = (
        [f"Refreshed business days {window}"]
        + _load_summary_lines(result)
        + _warning_lines(result)
        + data_quality_warning_lines(settings.work_db_path)
    )
    if not result.success:
        outcome.failure_lines = _failure_lines(result, log_path) or [
            f"the refresh run failed (see {log_path})"
        ]
    return outcome


DAGSTER_YAML = """# Written by siyu. Runs writing the working DuckDB (tag siyu/working_database) are
# queued one at a time: DuckDB allows one writer per file.
concurrency:
  runs:
    tag_concurrency_limits:
      - key: "siyu/working_database"
        limit: 1
telemetry:
  enabled: false
"""


def prepare_dagster_home(home: Path) -> None:
    """Create DAGSTER_HOME with the run-queue limit when it has no dagster.yaml yet."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")


def data_quality_warning_lines(work_db_path: str, limit: int = 12) -> list[str]:
    """Non-blocking warnings of the last build (source, days, value), from the working DB."""
    import duckdb

    if not Path(work_db_path).exists():
        return []
    try:
        con = duckdb.connect(work_db_path, read_only=True)
    except duckdb.Error:
        return []  # the run's failure lines already say why it cannot be opened
    try:
        exists = fetch_value(
            con,
            "select count(*) from duckdb_tables() where schema_name = 'intermediate' "
            "and table_name = 'int_data_quality_warnings_listed'",
        )
        if not exists:
            return []
        rows = con.execute(
            "select warning, value, source_name, min(warning_date), max(warning_date), "
            "count(distinct warning_date), "
            "sum(affected_rows) from intermediate.int_data_quality_warnings_listed "
            "group by all order by warning, value, source_name"
        ).fetchall()
    finally:
        con.close()
    lines = []
    for warning, value, source, first, last, days, affected in rows[:limit]:
        span = f"{first}" if first == last else f"{first} .. {last} ({days} days)"
        lines.append(f"warning {source} {span}: {warning}: {value!r} ({affected} rows)")
    if len(rows) > limit:
        lines.append(
            f"... and {len(rows) - limit} more in intermediate.int_data_quality_warnings_listed"
        )
    return lines


def kpi_summary_lines(warehouse_path: str) -> list[str]:
    """The latest complete day's KPIs from the serving file, for people, not machines."""
    import duckdb

    con = duckdb.connect(warehouse_path, read_only=True)
    try:
        day = fetch_value(con, "select max(date) from marts.order_conversion where visitors > 0")
        if day is None:
            return ["no KPI yet: the landing zone has no visits"]
        lines = [f"KPIs for {day.isoformat()}:"]
        rows = con.execute(
            "select kpi, value, target, met from marts.kpi_scorecard where date = ? order by kpi",
            [day],
        ).fetchall()
        for kpi, value, target, met in rows:
            shown = (
                "n/a"
                if value is None
                else (f"{value:.2f}" if kpi == "average_order_value" else f"{value:.2%}")
            )
            verdict = "no value" if met is None else ("met" if met else "missed")
            goal = "" if target is None else f" (target {target:.0%}: {verdict})"
            lines.append(f"  {kpi:<22} {shown}{goal}")
        totals = fetch_row(
            con,
            "select sum(paid_orders), sum(gmv), sum(refunds), min(date), max(date) "
            "from marts.average_order_value",
        )
        if totals is not None:
            lines.append(
                f"  period {totals[3]} .. {totals[4]}: {totals[0]} paid orders, "
                f"GMV ¥{totals[1]:,.2f}, refunds ¥{totals[2]:,.2f}"
            )
        return lines
    finally:
        con.close()


def _print_outcome(outcome: RefreshOutcome) -> None:
    for line in outcome.summary_lines:
        print(line)
    if outcome.success:
        print(f"Refresh succeeded; serving file: {outcome.warehouse_path}")
    else:
        print("Refresh FAILED; the serving file was not replaced.", file=sys.stderr)
        for line in outcome.failure_lines:
            print(f"  {line}", file=sys.stderr)
    if outcome.log_path:
        print(f"Run log (Dagster and dbt output): {outcome.log_path}")


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _settings_from(args: argparse.Namespace) -> RunSettings:
    return resolve_settings(
        dict(os.environ),
        landing_dir=getattr(args, "landing", None),
        warehouse_path=getattr(args, "warehouse", None),
        work_db_path=getattr(args, "work_db", None),
        business_timezone=getattr(args, "timezone", None),
    )


def command_generate(args: argparse.Namespace) -> int:
    from ingestion.synthetic import DEFAULT_START, GeneratorSettings, generate_landing_zone

    summary = generate_landing_zone(
        GeneratorSettings(
            out=Path(args.out),
            days=args.days,
            scale=args.scale,
            seed=args.seed,
            start=args.start or DEFAULT_START,
            dirty_share=args.dirty_share,
        )
    )
    print(
        f"Wrote {summary.files} files ({summary.rows} rows) for {summary.start} .. {summary.end} "
        f"to {summary.out}"
    )
    return 0


def command_refresh(args: argparse.Namespace) -> int:
    settings = _settings_from(args)
    if args.date and (args.start or args.end):
        print("error: use --date or --start/--end, not both", file=sys.stderr)
        return 2
    start, end = (args.date, args.date) if args.date else (args.start, args.end)
    if not Path(settings.landing_dir).is_dir():
        print(f"error: the landing folder {settings.landing_dir} does not exist", file=sys.stderr)
        return 2
    outcome = run_refresh(
        settings, start, end, force_reload=args.force_reload, full_refresh=args.full_refresh
    )
    _print_outcome(outcome)
    return 0 if outcome.success else 1


def command_demo(args: argparse.Namespace) -> int:
    from ingestion.synthetic import (
        GeneratorSettings,
        generate_landing_zone,
        landing_zone_is_present,
    )

    settings = _settings_from(args)
    landing = Path(settings.landing_dir)
    if landing_zone_is_present(landing):
        print(f"Using the landing zone in {landing}")
    else:
        from datetime import UTC, datetime, timedelta

        from orchestration.partitions import last_complete_day

        # the sample ends yesterday in the business time zone, like a live landing zone
        start = last_complete_day(datetime.now(tz=UTC)) - timedelta(days=DEMO_DAYS - 1)
        summary = generate_landing_zone(
            GeneratorSettings(
                out=landing, days=DEMO_DAYS, scale=DEMO_SCALE, seed=DEMO_SEED, start=start
            )
        )
        print(
            f"Generated a sample landing zone: {summary.files} files, {summary.rows} rows, "
            f"{summary.start} .. {summary.end}, in {landing}"
        )
    print("Running the refresh (Dagster job siyu_refresh: land → dbt build → publish) ...")
    outcome = run_refresh(settings)
    _print_outcome(outcome)
    if not outcome.success:
        return 1
    print()
    print(f"Warehouse (open it with DuckDB, read-only): {settings.warehouse_path}")
    for line in kpi_summary_lines(settings.warehouse_path):
        print(line)
    return 0


def command_ui(args: argparse.Namespace) -> int:
    settings = _settings_from(args)
    environment = dict(os.environ) | settings.as_environment()
    home = dagster_home_for(settings, environment)
    prepare_dagster_home(home)
    environment[ENV_DAGSTER_HOME] = str(home.resolve())
    command = [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        "-m",
        "orchestration.definitions",
        "--host",
        args.host,
        "--port",
        str(args.port),
    ]
    print(f"Starting the Dagster UI on http://{args.host}:{args.port} (DAGSTER_HOME={home})")
    return subprocess.call(command, env=environment)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="siyu", description="Siyu: the analytics warehouse for WeChat private-domain growth."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def paths(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--landing", help="landing folder (SIYU_LANDING_DIR; data/landing)")
        sub.add_argument(
            "--warehouse",
            help="serving DuckDB file (SIYU_WAREHOUSE_PATH; data/warehouse/siyu.duckdb)",
        )
        sub.add_argument("--work-db", help="working DuckDB file (SIYU_WORK_DB)")
        sub.add_argument("--timezone", help="business time zone (SIYU_TIMEZONE; Asia/Shanghai)")

    demo = commands.add_parser("demo", help="generate sample data if needed, refresh, summarise")
    paths(demo)
    demo.set_defaults(handler=command_demo)

    refresh = commands.add_parser("refresh", help="run the refresh job for some or all days")
    paths(refresh)
    refresh.add_argument("--date", type=_parse_date, help="one business day")
    refresh.add_argument("--start", type=_parse_date, help="first day of a range")
    refresh.add_argument("--end", type=_parse_date, help="last day of a range")
    refresh.add_argument(
        "--force-reload", action="store_true", help="re-parse files even when unchanged"
    )
    refresh.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild the incremental dbt models from the whole history",
    )
    refresh.set_defaults(handler=command_refresh)

    generate = commands.add_parser("generate", help="write a synthetic landing zone")
    generate.add_argument("--out", required=True, help="folder to write")
    generate.add_argument("--days", type=int, default=90)
    generate.add_argument("--scale", type=float, default=1.0)
    generate.add_argument("--seed", type=int, default=7)
    generate.add_argument("--start", type=_parse_date, help="first day (default 2026-08-01)")
    generate.add_argument(
        "--dirty-share",
        type=float,
        default=0.0,
        help="share of order and visit rows written dirty, to see the quarantine (e.g. 0.01)",
    )
    generate.set_defaults(handler=command_generate)

    ui = commands.add_parser("ui", help="start the Dagster UI for this project")
    paths(ui)
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(handler=command_ui)
    return parser


def report_unexpected_error(command: str, error: BaseException, log_path: Path) -> None:
    """One line on the terminal; the full trace in the log."""
    import traceback
    from datetime import UTC, datetime

    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"\n{datetime.now(UTC).isoformat()} siyu {command} failed:\n")
            traceback.print_exception(error, file=log)
        where = f"full trace in {log_path}"
    except OSError:
        where = "the log could not be written"
    kind = type(error).__name__
    first = (str(error).strip().splitlines() or [""])[0]
    print(f"siyu {command} failed: {kind}: {first} ({where})", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print(f"siyu {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # an unexpected error: one line here, the trace in the log
        settings = _settings_from(args)
        log_path = (
            refresh_log_path(settings)
            if args.command in ("refresh", "demo")
            else logs_dir_for(settings) / "siyu.log"
        )
        report_unexpected_error(args.command, error, log_path)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
