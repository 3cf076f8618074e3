"""The latest complete day's KPIs, read from the serving file, for people (`siyu demo`)."""

from __future__ import annotations

import duckdb

from ingestion.queries import fetch_row, fetch_value


def kpi_summary_lines(warehouse_path: str) -> list[str]:
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
