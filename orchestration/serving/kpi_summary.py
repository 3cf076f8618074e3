"""The last 7 days' KPIs against their targets, read from the serving file, for people
(`siyu demo`)."""

from __future__ import annotations

from datetime import timedelta

import duckdb

from ingestion.queries import fetch_row
from orchestration.serving.report import report_day, shown

DAYS = 7


def kpi_summary_lines(warehouse_path: str) -> list[str]:
    con = duckdb.connect(warehouse_path, read_only=True)
    try:
        last = report_day(con)
        if last is None:
            return ["no KPI yet: the landing zone has no data"]
        days = [last - timedelta(days=back) for back in range(DAYS - 1, -1, -1)]
        rows = con.execute(
            "select kpi, date, value, target, comparison, met from marts.kpi_scorecard "
            "where date between ? and ? order by kpi, date",
            [days[0], last],
        ).fetchall()
        by_kpi: dict[str, dict] = {}
        for kpi, day, value, target, comparison, met in rows:
            entry = by_kpi.setdefault(kpi, {"target": target, "comparison": comparison})
            mark = "" if met is None else (" ✓" if met else " ✗")
            entry[day] = shown(kpi, value) + mark
        width = 11
        lines = [
            f"KPIs of the last {DAYS} days ({days[0]} .. {last}); ✓ met, ✗ missed the target:",
            f"  {'kpi':<22}"
            + "".join(f"{d.strftime('%m-%d'):>{width}}" for d in days)
            + "  target",
        ]
        for kpi, entry in sorted(by_kpi.items()):
            target = (
                "–"
                if entry["target"] is None
                else f"{entry['comparison']} {shown(kpi, entry['target'])}"
            )
            cells = "".join(f"{entry.get(d, '–'):>{width}}" for d in days)
            lines.append(f"  {kpi:<22}{cells}  {target}")
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
