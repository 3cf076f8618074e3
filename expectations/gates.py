"""The data-quality gate of one source: its GX suites run on the batch of a refresh.

The row suite validates the per-day counts of broken rows among the rows loaded in this run
(the new day's batch); the batch suite validates the per-day profile of every day in the run's
window, so a file rejected earlier keeps failing the gate until a corrected file is landed. Both
are computed in DuckDB: only a row per day reaches GX, whatever the size of the batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import pandas as pd

from expectations.limits import GateLimits
from expectations.profile import batch_profile, rejected_file_reasons, row_checks, row_metrics
from expectations.runner import SuiteOutcome, validate_batch
from expectations.suites import batch_suite, row_suite
from ingestion.schemas import SourceSchema


@dataclass
class SourceGateResult:
    source: str
    gate_messages: list[str] = field(default_factory=list)  # each names day, check and file
    warning_messages: list[str] = field(default_factory=list)
    suites: dict[str, dict[str, Any]] = field(default_factory=dict)


def _quarantine_examples(con: duckdb.DuckDBPyConnection, schema: SourceSchema, day: str) -> str:
    rows = con.execute(
        "select file, row_number, reason from quarantine.rejected_rows where source = $source "
        "and coalesce(cast(file_date as varchar), 'whole file') = $day "
        "order by file, row_number limit 3",
        {"source": schema.name, "day": day},
    ).fetchall()
    return "; ".join(f"{file} row {row}: {reason}" for file, row, reason in rows)


def _profile_messages(
    con: duckdb.DuckDBPyConnection,
    schema: SourceSchema,
    outcome: SuiteOutcome,
    profile_rows: dict[str, dict[str, Any]],
    rejected: list[tuple[str, str, str]],
    limits: GateLimits,
) -> tuple[list[str], list[str]]:
    gates: list[str] = []
    warnings: list[str] = []
    for failure in outcome.failures:
        target = gates if failure.severity == "gate" else warnings
        for day in failure.where or ["?"]:
            figures = profile_rows.get(day, {})
            if failure.column == "rejected_files":
                for rejected_day, file, reason in rejected:
                    if rejected_day == day:
                        target.append(
                            f"{schema.name} {day}: file rejected ({failure.expectation}): "
                            f"{file}: {reason}"
                        )
            elif failure.column == "quarantine_share":
                target.append(
                    f"{schema.name} {day}: {figures.get('rows_rejected')} of "
                    f"{figures.get('rows_landed')} rows quarantined "
                    f"({figures.get('quarantine_share', 0):.1%} > limit "
                    f"{limits.max_quarantine_share:.0%}) ({failure.expectation}); e.g. "
                    f"{_quarantine_examples(con, schema, day)}"
                )
            elif failure.column == "empty_after_rows":
                target.append(
                    f"{schema.name} {day}: no rows after a day with rows ({failure.expectation})"
                )
            elif failure.column == "volume_ratio":
                ratio = figures.get("volume_ratio")
                target.append(
                    f"{schema.name} {day}: {figures.get('rows_loaded')} rows, "
                    f"{ratio:.0%} of the trailing 7-day median ({failure.expectation})"
                    if ratio is not None
                    else f"{schema.name} {day}: volume drop ({failure.expectation})"
                )
            else:
                target.append(f"{schema.name} {day}: {failure.describe()}")
    return gates, warnings


def _row_messages(schema: SourceSchema, outcome: SuiteOutcome, metrics: pd.DataFrame) -> list[str]:
    """One message per failed row check and day: `mall_orders 2026-11-03: 2 of 150 rows:
    order_id is missing (expect_column_values_to_be_between on order_id__missing)`."""
    words = {check.metric: check.words for check in row_checks(schema)}
    messages = []
    for failure in outcome.failures:
        broken = (
            metrics[metrics[failure.column] > 0]
            if failure.column in metrics.columns
            else metrics.iloc[0:0]
        )
        if broken.empty:
            messages.append(f"{schema.name}: {failure.describe()}")
            continue
        for record in broken.to_dict(orient="records"):
            what = words.get(failure.column, failure.column)
            messages.append(
                f"{schema.name} {record['day']}: {record[failure.column]} of {record['rows']} "
                f"rows: {what} ({failure.expectation} on {failure.column})"
            )
    return messages


def run_source_gate(
    con: duckdb.DuckDBPyConnection,
    schema: SourceSchema,
    loaded_files: list[str],
    start: date | None,
    end: date | None,
    limits: GateLimits,
) -> SourceGateResult:
    """Validate the source's new rows and the profile of every day in [start, end]."""
    result = SourceGateResult(schema.name)
    if loaded_files:
        metrics = row_metrics(con, schema, loaded_files)
        outcome = validate_batch(row_suite(schema), metrics, ["day"])
        result.suites["rows"] = outcome.result | {"days": outcome.rows}
        result.gate_messages += _row_messages(schema, outcome, metrics)
    profile = batch_profile(con, schema, start, end)
    if not profile.empty:
        outcome = validate_batch(batch_suite(schema, limits), profile, ["day"])
        result.suites["batch"] = outcome.result | {"days": outcome.rows}
        profile_rows = {
            str(record["day"]): {str(name): value for name, value in record.items()}
            for record in profile.to_dict(orient="records")
        }
        gates, warnings = _profile_messages(
            con,
            schema,
            outcome,
            profile_rows,
            rejected_file_reasons(con, schema, start, end),
            limits,
        )
        result.gate_messages += gates
        result.warning_messages += warnings
    return result
