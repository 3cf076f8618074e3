"""`siyu`: the command line of the product (see README and spec/operations.md).

This module parses arguments and prints; the work is done by `orchestration.runner` (a refresh),
`synthetic` (sample data) and `orchestration.serving.kpi_summary` (the KPIs).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from orchestration.progress import Progress, progress_for
from orchestration.run_report import RefreshOutcome
from orchestration.settings import (
    DEFAULT_TIMEZONE,
    ENV_DAGSTER_HOME,
    ENV_LANDING_DIR,
    ENV_LOGS_DIR,
    ENV_TIMEZONE,
    ENV_WAREHOUSE_PATH,
    ENV_WORK_DB,
    SettingsError,
    SiyuSettings,
    resolve_settings,
)

DEMO_DAYS = 90
DEMO_SCALE = 0.05
DEMO_SEED = 7


def _terminal_progress() -> Progress:
    """Progress onto the terminal as it is now (the run's own output is redirected to the run
    log while it runs): a bar on a terminal, plain lines otherwise."""
    return progress_for(sys.stdout)


def _refresh_with_progress(settings: SiyuSettings, **options: Any) -> RefreshOutcome:
    from orchestration.runner import run_refresh

    progress = _terminal_progress()
    try:
        return run_refresh(
            settings,
            progress=progress.line,
            status=lambda done, total, doing: progress.status(done, total, "steps", doing),
            **options,
        )
    finally:
        progress.finish()


def _generate_with_progress(generate: Callable[..., Any], settings: Any) -> Any:
    """The generator with a bar of its days on a terminal (nothing per day elsewhere)."""
    progress = _terminal_progress()
    try:
        return generate(
            settings,
            on_day=lambda done, total, day: progress.status(done, total, "days", f"{day}"),
        )
    finally:
        progress.finish()


def _print_outcome(outcome: RefreshOutcome) -> None:
    for line in outcome.summary_lines:
        print(line)
    if outcome.success:
        print(f"Refresh succeeded; serving file: {outcome.warehouse_path}")
    else:
        print("Refresh FAILED; the serving file was not replaced.", file=sys.stderr)
        for line in outcome.failure_lines:
            print(f"  {line}", file=sys.stderr)
    if outcome.stage_seconds:
        print(outcome.timing_line())
    if outcome.log_path:
        print(f"Run log (Dagster and dbt output): {outcome.log_path}")


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _settings_from(args: argparse.Namespace) -> SiyuSettings:
    return resolve_settings(
        os.environ,
        landing_dir=getattr(args, "landing", None),
        warehouse_path=getattr(args, "warehouse", None),
        work_db_path=getattr(args, "work_db", None),
        business_timezone=getattr(args, "timezone", None),
    )


def command_generate(args: argparse.Namespace) -> int:
    from synthetic.generator import DEFAULT_START, GeneratorSettings, generate_landing_zone

    summary = _generate_with_progress(
        generate_landing_zone,
        GeneratorSettings(
            out=Path(args.out),
            days=args.days,
            scale=args.scale,
            seed=args.seed,
            start=args.start or DEFAULT_START,
            dirty_share=args.dirty_share,
        ),
    )
    print(
        f"Wrote {summary.files} files ({summary.rows} rows) for {summary.start} .. {summary.end} "
        f"to {summary.out}"
    )
    return 0


def command_refresh(args: argparse.Namespace) -> int:
    settings = _settings_from(args)
    window = _window(args)
    if window is None:
        return 2
    start, end = window
    if not Path(settings.landing_dir).is_dir():
        print(f"error: the landing folder {settings.landing_dir} does not exist", file=sys.stderr)
        return 2
    outcome = _refresh_with_progress(
        settings,
        start=start,
        end=end,
        force_reload=args.force_reload,
        full_refresh=args.full_refresh,
        fetch_from_wechat=not args.no_fetch,
    )
    _print_outcome(outcome)
    return 0 if outcome.success else 1


def command_demo(args: argparse.Namespace) -> int:
    from orchestration.partitions import last_complete_day
    from orchestration.serving.kpi_summary import kpi_summary_lines
    from orchestration.serving.report import report_path
    from synthetic.generator import (
        GeneratorSettings,
        generate_landing_zone,
        landing_zone_is_present,
    )

    settings = _settings_from(args)
    landing = Path(settings.landing_dir)
    if landing_zone_is_present(landing):
        print(f"Using the landing zone in {landing}")
    else:
        # the sample ends yesterday in the business time zone, like a live landing zone
        yesterday = last_complete_day(datetime.now(tz=UTC), settings.business_timezone)
        summary = _generate_with_progress(
            generate_landing_zone,
            GeneratorSettings(
                out=landing,
                days=DEMO_DAYS,
                scale=DEMO_SCALE,
                seed=DEMO_SEED,
                start=yesterday - timedelta(days=DEMO_DAYS - 1),
            ),
        )
        print(
            f"Generated a sample landing zone: {summary.files} files, {summary.rows} rows, "
            f"{summary.start} .. {summary.end}, in {landing}"
        )
    print("Running the refresh (Dagster job siyu_refresh: land → dbt build → publish) ...")
    outcome = _refresh_with_progress(settings, fetch_from_wechat=False)  # the demo stays offline
    _print_outcome(outcome)
    if not outcome.success:
        return 1
    print()
    print(f"Warehouse (open it with DuckDB, read-only): {settings.warehouse_path}")
    for line in kpi_summary_lines(settings.warehouse_path):
        print(line)
    print(f"KPI report (open it in a browser): {report_path(settings.warehouse_path)}")
    return 0


def command_report(args: argparse.Namespace) -> int:
    from orchestration.serving.report import build_kpi_report

    settings = _settings_from(args)
    if not Path(settings.warehouse_path).exists():
        print(
            f"siyu report: no serving file at {settings.warehouse_path}: run `siyu refresh` "
            "(or `siyu demo`) first",
            file=sys.stderr,
        )
        return 1
    report = build_kpi_report(
        settings.warehouse_path, out_path=args.out, work_db_path=settings.work_db_path
    )
    print(f"KPI report as of {report.as_of}: {report.path}")
    return 0


def _window(args: argparse.Namespace) -> tuple[date | None, date | None] | None:
    """--date, or --start/--end; None (after saying why) when both are given."""
    if args.date and (args.start or args.end):
        print("error: use --date or --start/--end, not both", file=sys.stderr)
        return None
    return (args.date, args.date) if args.date else (args.start, args.end)


def command_fetch(args: argparse.Namespace) -> int:
    from connectors.wechat.config import NO_CREDENTIALS, credentials_from_environment
    from connectors.wechat.fetch import fetch_wechat
    from orchestration.partitions import last_complete_day

    settings = _settings_from(args)
    window = _window(args)
    if window is None:
        return 2
    credentials = credentials_from_environment(os.environ)
    if credentials is None:
        print(f"error: {NO_CREDENTIALS}", file=sys.stderr)
        return 2
    yesterday = last_complete_day(datetime.now(tz=UTC), settings.business_timezone)
    start, end = window
    end = end or start or yesterday
    start = start or end
    try:
        report = fetch_wechat(
            landing_dir=Path(settings.landing_dir),
            logs_dir=Path(settings.logs_dir),
            secrets_dir=settings.secrets_path,
            api_base=settings.wechat_api_base,
            credentials=credentials,
            start=start,
            end=end,
            yesterday=yesterday,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for line in report.lines():
        print(line)
    if not report.succeeded:
        print("Fetch FAILED: not every planned call succeeded (see above).", file=sys.stderr)
        return 1
    return 0


def ui_environment(settings: SiyuSettings) -> dict[str, str]:
    """The environment of the `dagster dev` process: this one's, with the resolved settings
    that options may have changed (the code location resolves the same settings from it)."""
    return dict(os.environ) | {
        ENV_LANDING_DIR: settings.landing_dir,
        ENV_WAREHOUSE_PATH: settings.warehouse_path,
        ENV_WORK_DB: settings.work_db_path,
        ENV_LOGS_DIR: settings.logs_dir,
        ENV_TIMEZONE: settings.business_timezone,
        ENV_DAGSTER_HOME: settings.dagster_home,
    }


def command_ui(args: argparse.Namespace) -> int:
    from orchestration.runner import prepare_dagster_home

    settings = _settings_from(args)
    prepare_dagster_home(Path(settings.dagster_home))
    command = [
        sys.executable,
        # `dagster dev` warns that `dg dev` supersedes it (`dg` is another package): not the
        # user's concern
        "-W",
        "ignore:Function `dev_command` is superseded:Warning",
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
    print(
        f"Starting the Dagster UI on http://{args.host}:{args.port} "
        f"(DAGSTER_HOME={settings.dagster_home})"
    )
    return subprocess.call(command, env=ui_environment(settings))


def command_docs(args: argparse.Namespace) -> int:
    from orchestration.runner import WriterBusyError
    from orchestration.transform.docs import DocsError, write_docs_site

    settings = _settings_from(args)
    print("Writing dbt's docs site (models, columns, lineage from the landing sources) ...")
    try:
        site = write_docs_site(settings)
    except (DocsError, WriterBusyError) as error:
        print(f"siyu docs: {error}", file=sys.stderr)
        return 1
    print(f"Docs site: {site.index} (one file: open it in a browser, no server or network)")
    return 0


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def command_metrics(args: argparse.Namespace) -> int:
    from orchestration.serving.metrics import MetricsError, MetricsRequest, SemanticLayer

    settings = _settings_from(args)
    try:
        with SemanticLayer(settings.warehouse_path) as layer:
            if args.metrics_command == "list":
                for metric in layer.definitions():
                    print(f"{metric.name:<32} {metric.type:<8} {metric.description}")
                return 0
            if args.metrics_command == "dimensions":
                for name in layer.group_bys(_names(args.metrics)):
                    print(name)
                return 0
            request = MetricsRequest(
                metrics=_names(args.metrics),
                group_by=_names(args.group_by),
                start=args.start,
                end=args.end,
                where=tuple(args.where),
                # rows in the order of the group-by items unless asked otherwise
                order_by=_names(args.order) or _names(args.group_by),
                limit=args.limit,
            )
            if args.explain:
                print(layer.sql(request))
                return 0
            answer = layer.query(request)
    except MetricsError as error:
        print(f"siyu metrics: {error}", file=sys.stderr)
        return 1
    if args.csv:
        answer.frame.write_csv(args.csv)
        print(f"{answer.frame.height} rows written to {args.csv}")
        return 0
    import polars as pl

    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_hide_dataframe_shape=True, fmt_str_lengths=60):
        print(answer.frame)
    return 0


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
        sub.add_argument(
            "--timezone", help=f"business time zone (SIYU_TIMEZONE; {DEFAULT_TIMEZONE})"
        )

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
    refresh.add_argument(
        "--no-fetch",
        action="store_true",
        help="do not fetch from WeChat first, even with credentials: use the landing folder",
    )
    refresh.set_defaults(handler=command_refresh)

    fetch = commands.add_parser(
        "fetch", help="land the WeChat files from the Official Account data APIs"
    )
    fetch.add_argument("source", choices=["wechat"], help="what to fetch from")
    paths(fetch)
    fetch.add_argument("--date", type=_parse_date, help="one business day (default: yesterday)")
    fetch.add_argument("--start", type=_parse_date, help="first day of a range")
    fetch.add_argument("--end", type=_parse_date, help="last day of a range")
    fetch.set_defaults(handler=command_fetch)

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

    report = commands.add_parser(
        "report", help="write the KPI report (one offline HTML file) from the serving file"
    )
    paths(report)
    report.add_argument("--out", help="the HTML file (default: kpi_report.html beside it)")
    report.set_defaults(handler=command_report)

    docs = commands.add_parser(
        "docs", help="write dbt's static docs site (models, columns, lineage) beside the warehouse"
    )
    paths(docs)
    docs.set_defaults(handler=command_docs)

    metrics = commands.add_parser(
        "metrics",
        help="query the metric definitions (dbt MetricFlow) against the serving file, read-only",
    )
    metrics_commands = metrics.add_subparsers(
        dest="metrics_command", required=True, metavar="{list,dimensions,query}"
    )
    metrics_list = metrics_commands.add_parser("list", help="the metrics and what each means")
    paths(metrics_list)
    metrics_dimensions = metrics_commands.add_parser(
        "dimensions", help="what the given metrics can be grouped by"
    )
    paths(metrics_dimensions)
    metrics_dimensions.add_argument("--metrics", required=True, help="comma-separated names")
    metrics_query = metrics_commands.add_parser(
        "query",
        help="metrics by time grain and channel, e.g. --group-by metric_time__month,channel",
    )
    paths(metrics_query)
    metrics_query.add_argument("--metrics", required=True, help="comma-separated metric names")
    metrics_query.add_argument(
        "--group-by",
        default="",
        help="comma-separated: metric_time__day|week|month|quarter|year, channel, ...",
    )
    metrics_query.add_argument("--start", type=_parse_date, help="first metric_time date")
    metrics_query.add_argument("--end", type=_parse_date, help="last metric_time date")
    metrics_query.add_argument(
        "--where",
        action="append",
        default=[],
        help="a filter, e.g. \"{{ Entity('channel') }} = 'search_ads'\" (repeatable)",
    )
    metrics_query.add_argument(
        "--order", default="", help="comma-separated; -name for descending (default: group-by)"
    )
    metrics_query.add_argument("--limit", type=int)
    metrics_query.add_argument("--csv", help="write the rows to this CSV file")
    metrics_query.add_argument(
        "--explain", action="store_true", help="print the SQL, do not run it"
    )
    for sub in (metrics_list, metrics_dimensions, metrics_query):
        sub.set_defaults(handler=command_metrics, metrics_command=sub.prog.split()[-1])

    ui = commands.add_parser("ui", help="start the Dagster UI for this project")
    paths(ui)
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(handler=command_ui)
    return parser


def command_log_path(args: argparse.Namespace) -> Path:
    """Where an unexpected error's trace goes: the refresh log for the commands that refresh,
    else `siyu.log`, both in the logs folder."""
    try:
        settings = _settings_from(args)
    except SettingsError:
        return Path(resolve_settings({}).logs_dir) / "siyu.log"
    if args.command in ("refresh", "demo"):
        return settings.refresh_log_path
    return Path(settings.logs_dir) / "siyu.log"


def report_unexpected_error(command: str, error: BaseException, log_path: Path) -> None:
    """One line on the terminal; the full trace in the log."""
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
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"siyu {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # an unexpected error: one line here, the trace in the log
        report_unexpected_error(args.command, error, command_log_path(args))
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
