"""A refresh run's events, turned into what a person reads: per-source load lines, warnings,
and one line per failure that names the check or step and points to the log."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import duckdb

from ingestion.queries import fetch_value


@dataclass
class RefreshOutcome:
    """What a refresh did, in words a person can act on, and how long its stages took."""

    success: bool
    warehouse_path: str
    log_path: str = ""
    summary_lines: list[str] = field(default_factory=list)
    failure_lines: list[str] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def timing_line(self) -> str:
        """`Stages: land 12.0 s (parse and load 9.1 s, gates 2.9 s), dbt 30.2 s (...), ...`"""
        s = self.stage_seconds
        if not s:
            return ""
        parts = []
        if s.get("fetch"):
            parts.append(f"fetch {s['fetch']:.1f} s")
        parts.append(
            f"land {s.get('land', 0):.1f} s (parse and load {s.get('parse_and_load', 0):.1f} s, "
            f"gates {s.get('gates', 0):.1f} s)"
        )
        parts.append(
            f"dbt {s.get('dbt', 0):.1f} s (SQL of the models {s.get('dbt_models_sql', 0):.1f} s, "
            f"of the tests {s.get('dbt_tests_sql', 0):.1f} s)"
        )
        parts.append(f"publish {s.get('publish', 0):.1f} s")
        parts.append(f"Dagster and the rest {s.get('other', 0):.1f} s")
        return f"Stages ({s.get('total', 0):.1f} s): " + ", ".join(parts)


def stage_seconds(
    step_seconds: Mapping[str, float], result: Any, run_results: Mapping[str, Any] | None
) -> dict[str, float]:
    """Time per stage of a run, from its steps' durations, the raw assets' own timings and dbt's
    run_results.json (SQL time per node, summed: the threads overlap)."""
    stages: dict[str, float] = defaultdict(float)
    for step, seconds in step_seconds.items():
        if step.startswith("raw__") and not step.endswith("_freshness"):
            stages["land"] += seconds
        elif step == "wechat_fetch":
            stages["fetch"] += seconds
        elif step == "siyu_dbt_models":
            stages["dbt"] += seconds
        elif step.startswith("serving__"):
            stages["publish"] += seconds
        else:
            stages["checks"] += seconds
    timed: set[str] = set()  # a range run materializes every partition with the same metadata
    for event in result.all_events:
        if not event.is_step_materialization:
            continue
        materialization = event.event_specific_data.materialization
        key = materialization.asset_key.to_user_string()
        if key in timed:
            continue
        timed.add(key)
        for name, stage in (("load_seconds", "parse_and_load"), ("gate_seconds", "gates")):
            if name in materialization.metadata:
                stages[stage] += float(materialization.metadata[name].value)
    for node in (run_results or {}).get("results", []):
        kind = str(node.get("unique_id", "")).split(".")[0]
        stage = "dbt_models_sql" if kind in ("model", "seed") else "dbt_tests_sql"
        stages[stage] += float(node.get("execution_time", 0.0))
    return {name: round(value, 2) for name, value in stages.items()}


class CheckEvaluation(NamedTuple):
    asset: str
    check: str
    passed: bool
    severity: str  # "ERROR" (blocking) or "WARN"
    description: str


def check_evaluations(result: Any) -> list[CheckEvaluation]:
    """Every asset check evaluated in the run."""
    evaluations = []
    for event in result.all_events:
        if event.event_type_value != "ASSET_CHECK_EVALUATION":
            continue
        data = event.event_specific_data
        evaluations.append(
            CheckEvaluation(
                data.asset_key.to_user_string(),
                data.check_name,
                bool(data.passed),
                data.severity.value if data.severity else "ERROR",
                (data.description or "").strip(),
            )
        )
    return evaluations


def error_summary(error: Any) -> str:
    """`ErrorType: first line of the message` of the error a step raised, beneath Dagster's
    own wrapper ("Error occurred while executing op ...")."""
    innermost = error
    while getattr(innermost, "cause", None) is not None:
        innermost = innermost.cause
    message = (getattr(innermost, "message", "") or "").strip()
    first = message.splitlines()[0] if message else "unknown error"
    # "_duckdb.IOException: IO Error: ..." -> "IOException: IO Error: ..."
    kind, separator, rest = first.partition(": ")
    if separator and " " not in kind:
        first = f"{kind.rsplit('.', 1)[-1]}: {rest}"
    return first


def failure_lines(result: Any, log_path: Path) -> list[str]:
    """One line per failed blocking check, and one per distinct error of the failed steps
    (steps that failed the same way share a line); the traces go to the log."""
    lines = [
        f"check {evaluation.asset} :: {evaluation.check} failed: "
        f"{evaluation.description or 'see the UI'}"
        for evaluation in check_evaluations(result)
        if not evaluation.passed and evaluation.severity == "ERROR"
    ]
    steps_by_error: dict[str, list[str]] = {}
    for event in result.all_events:
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


def warning_lines(result: Any) -> list[str]:
    """Failed non-blocking checks of the raw sources (volume anomalies, freshness) and of the
    WeChat fetch (a call that failed: the refresh went on with the landing folder's files)."""
    return [
        f"warning {evaluation.asset} :: {evaluation.check}: {evaluation.description}"
        for evaluation in check_evaluations(result)
        if not evaluation.passed
        and (
            (evaluation.severity == "WARN" and evaluation.asset.startswith("raw/"))
            or evaluation.asset.startswith("fetch/")
        )
    ]


def fetch_summary_lines(result: Any) -> list[str]:
    """What the WeChat fetch did (once: every fetch asset carries the same summary)."""
    for event in result.all_events:
        if not event.is_step_materialization:
            continue
        materialization = event.event_specific_data.materialization
        if materialization.asset_key.to_user_string().startswith("fetch/"):
            summary = materialization.metadata.get("summary")
            return str(summary.value).splitlines() if summary is not None else []
    return []


def load_summary_lines(result: Any) -> list[str]:
    """One line per raw asset. A run over a range of days materializes each partition, every
    one with the same load report: it is summarised once."""
    lines: list[str] = []
    summarised: set[str] = set()
    for event in result.all_events:
        if not event.is_step_materialization:
            continue
        materialization = event.event_specific_data.materialization
        key = materialization.asset_key.to_user_string()
        metadata = materialization.metadata
        if key.startswith("raw/") and "rows_landed" in metadata and key not in summarised:
            summarised.add(key)
            value = {name: entry.value for name, entry in metadata.items()}
            lines.append(
                f"{key}: {value['files_seen']} files ({value['files_loaded']} loaded, "
                f"{value['files_unchanged']} unchanged), {value['rows_loaded']} rows loaded, "
                f"{value['rows_rejected']} rows quarantined"
            )
            lines += [f"  rejected file {entry}" for entry in value["rejected_files"]]
    return lines


def data_quality_warning_lines(work_db_path: str, limit: int = 12) -> list[str]:
    """Non-blocking warnings of the last build (source, days, value), from the working DB."""
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
