"""The KPI report: one self-contained, offline HTML file read from the published serving file.

Sections: the KPI scorecard against its targets (latest day, last 30 and 90 days), follower
growth, channels (spend, CAC, return on spend), content (recent articles' open and forward rates
against their targets), distributors (the latest settlement month) and data quality (quarantined
rows and files, the last build's warnings). Charts are Altair specifications rendered to inline
SVG by vl-convert (no script, no CDN, no network). A Markdown summary of the same figures goes
to the Dagster asset's metadata.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import altair as alt
import duckdb
import pandas as pd
import vl_convert

from ingestion.queries import fetch_row, fetch_value
from orchestration.run_report import data_quality_warning_lines

REPORT_FILE = "kpi_report.html"  # beside the serving file
WINDOWS = (30, 90)  # days of the scorecard's summaries
PERCENT_KPIS = {
    "daily_active_rate",
    "order_conversion_rate",
    "article_open_rate",
    "article_forward_rate",
    "follower_growth_rate",
}


@dataclass(frozen=True)
class KpiReport:
    path: Path
    as_of: date | None
    markdown: str  # the summary the Dagster UI shows


def report_path(warehouse_path: str | Path) -> Path:
    return Path(warehouse_path).parent / REPORT_FILE


def shown(kpi: str, value: float | None) -> str:
    """A KPI value as people read it: CNY for money, a percentage for a rate."""
    if value is None or pd.isna(value):
        return "–"
    return f"{value:.1%}" if kpi in PERCENT_KPIS else f"¥{value:,.2f}"


def report_day(con: duckdb.DuckDBPyConnection) -> date | None:
    """The day the report is as of: the latest with sessions (a day whose files have not all
    landed yet would show no rates), else the calendar's last."""
    day = fetch_value(
        con,
        "select coalesce((select max(date) from marts.order_conversion where visitors > 0), "
        "(select max(date) from marts.kpi_scorecard))",
    )
    return day if isinstance(day, date) else None


def _svg(chart: alt.TopLevelMixin) -> str:
    return str(vl_convert.vegalite_to_svg(chart.to_dict()))


@dataclass(frozen=True)
class Records:
    columns: list[str]
    rows: list[tuple[Any, ...]]

    def __len__(self) -> int:
        return len(self.rows)


def _records(con: duckdb.DuckDBPyConnection, sql: str, parameters: list[Any]) -> Records:
    cursor = con.execute(sql, parameters)
    return Records([d[0] for d in cursor.description], cursor.fetchall())


def cell(column: str, value: Any) -> str:
    """A value as the report shows it: money (DECIMAL) in CNY, a rate as a percentage."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return f"-¥{-value:,.2f}" if value < 0 else f"¥{value:,.2f}"
    if isinstance(value, float):
        return f"{value:.1%}" if column.endswith("_rate") else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(records: Records) -> str:
    if not records.rows:
        return "<p class='none'>None.</p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in records.columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(cell(c, v))}</td>" for c, v in zip(records.columns, row, strict=True)
        )
        + "</tr>"
        for row in records.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _frame(con: duckdb.DuckDBPyConnection, sql: str, parameters: list[Any]) -> pd.DataFrame:
    return con.execute(sql, parameters).df()


def scorecard(con: duckdb.DuckDBPyConnection, as_of: date) -> Records:
    """Per KPI: the latest day's value against its target, and how the last 30 and 90 days
    went (mean of the daily values, days the target was met out of days with a value)."""
    windows = ", ".join(
        f"avg(value) filter (where date > ? - {days}) as mean_{days}, "
        f"count(*) filter (where date > ? - {days} and met) as met_{days}, "
        f"count(*) filter (where date > ? - {days} and met is not null) as judged_{days}"
        for days in WINDOWS
    )
    parameters: list[Any] = [as_of] * (3 * len(WINDOWS)) + [as_of, as_of - timedelta(90)]
    return _records(
        con,
        f"""
        select
            kpi,
            max(value) filter (where date = ?) as latest,
            max(target) as target,
            max(comparison) as comparison,
            bool_or(met) filter (where date = ?) as latest_met,
            {windows}
        from marts.kpi_scorecard
        where date <= ? and date > ?
        group by kpi
        order by kpi
        """,
        [as_of, as_of, *parameters],
    )


def _scorecard_rows(card: Records) -> Records:
    columns = ["KPI", "latest", "target", "latest day"]
    for days in WINDOWS:
        columns += [f"mean {days} d", f"target met {days} d"]
    rows = []
    for values in card.rows:
        r = dict(zip(card.columns, values, strict=True))
        kpi = str(r["kpi"])
        verdict = "–" if r["latest_met"] is None else ("met" if r["latest_met"] else "missed")
        target = "–" if r["target"] is None else f"{r['comparison']} {shown(kpi, r['target'])}"
        row = [kpi, shown(kpi, r["latest"]), target, verdict]
        for days in WINDOWS:
            judged = r[f"judged_{days}"]
            met = f"{r[f'met_{days}']} of {judged} days" if judged else "–"
            row += [shown(kpi, r[f"mean_{days}"]), met]
        rows.append(tuple(row))
    return Records(columns, rows)


def _kpi_chart(con: duckdb.DuckDBPyConnection, as_of: date) -> str:
    daily = _frame(
        con,
        "select date, kpi, value, target from marts.kpi_scorecard "
        "where date > ? - 90 and date <= ? and value is not null order by date",
        [as_of, as_of],
    )
    if daily.empty:
        return "<p class='none'>No KPI values in the last 90 days.</p>"
    daily["date"] = daily["date"].astype(str)
    line = alt.Chart().mark_line(point=True).encode(x="date:T", y=alt.Y("value:Q", title=None))
    rule = alt.Chart().mark_rule(strokeDash=[4, 4], color="#c0392b").encode(y="target:Q")
    chart = (
        alt.layer(line, rule, data=daily)
        .properties(width=260, height=120)
        .facet(facet="kpi:N", columns=3)
        .resolve_scale(y="independent")
    )
    return _svg(chart)


def _followers(con: duckdb.DuckDBPyConnection, as_of: date) -> tuple[str, Records]:
    last_week = _records(
        con,
        "select date, new_followers, lost_followers, net_followers, total_followers, "
        "growth_rate from marts.follower_growth where date > ? - 7 and date <= ? order by date",
        [as_of, as_of],
    )
    daily = _frame(
        con,
        "select cast(date as varchar) as date, total_followers from marts.follower_growth "
        "where date > ? - 90 and date <= ? and total_followers is not null order by date",
        [as_of, as_of],
    )
    if daily.empty:
        return "<p class='none'>No follower totals in the last 90 days.</p>", last_week
    chart = (
        alt.Chart(daily)
        .mark_area(opacity=0.6, line=True)
        .encode(x="date:T", y=alt.Y("total_followers:Q", scale=alt.Scale(zero=False)))
        .properties(width=720, height=160, title="Total followers, last 90 days")
    )
    return _svg(chart), last_week


def _channels(con: duckdb.DuckDBPyConnection, as_of: date) -> tuple[str, Records]:
    channels = _records(
        con,
        """
        select
            channel_code as channel,
            sum(spend) as spend,
            cast(sum(new_users) as bigint) as new_users,
            cast(sum(paid_orders) as bigint) as paid_orders,
            sum(gmv) as gmv,
            cast(round(sum(spend) / nullif(sum(new_users), 0), 2) as decimal(18, 2)) as cac,
            cast(sum(gmv) / nullif(sum(spend), 0) as double) as return_on_spend
        from marts.channel_performance
        where date > ? - 30 and date <= ?
        group by channel_code
        order by sum(spend) desc, channel_code
        """,
        [as_of, as_of],
    )
    spent = pd.DataFrame(
        [(row[0], float(row[1])) for row in channels.rows if row[1]], columns=["channel", "spend"]
    )
    if spent.empty:
        return "<p class='none'>No spend in the last 30 days.</p>", channels
    chart = (
        alt.Chart(spent)
        .mark_bar()
        .encode(x=alt.X("spend:Q", title="spend (CNY), last 30 days"), y="channel:N")
        .properties(width=600, height=25 * len(spent))
    )
    return _svg(chart), channels


def _content(con: duckdb.DuckDBPyConnection, as_of: date) -> tuple[str, Records]:
    window = "publish_date > ? - 30 and publish_date <= ?"
    articles = _records(
        con,
        "select publish_date, title, source_api, reads, open_rate, forward_rate, "
        "meets_open_target, meets_forward_target from marts.content_performance "
        f"where {window} order by publish_date desc, msgid",
        [as_of, as_of],
    )
    rated = _frame(
        con,
        "select title, open_rate, forward_rate from marts.content_performance "
        f"where {window} and open_rate is not null and forward_rate is not null",
        [as_of, as_of],
    )
    if rated.empty:
        return "<p class='none'>No article with both rates in the last 30 days.</p>", articles
    targets = dict(
        con.execute(
            "select kpi, target from marts.kpi_targets "
            "where kpi in ('article_open_rate', 'article_forward_rate')"
        ).fetchall()
    )
    points = (
        alt.Chart(rated)
        .mark_circle(size=80)
        .encode(
            x=alt.X("open_rate:Q", axis=alt.Axis(format="%")),
            y=alt.Y("forward_rate:Q", axis=alt.Axis(format="%")),
        )
    )
    rules = [
        alt.Chart(pd.DataFrame({"v": [value]})).mark_rule(strokeDash=[4, 4]).encode(**{axis: "v:Q"})
        for axis, value in (
            ("x", targets.get("article_open_rate")),
            ("y", targets.get("article_forward_rate")),
        )
        if value is not None
    ]
    chart = alt.layer(points, *rules).properties(
        width=420, height=260, title="Articles of the last 30 days against the targets (dashed)"
    )
    return _svg(chart), articles


def _distributors(con: duckdb.DuckDBPyConnection) -> tuple[date | None, Records]:
    month = fetch_value(con, "select max(settlement_month) from marts.distributor_commissions")
    top = _records(
        con,
        "select distributor_id, distributor_name, tier, direct_orders, direct_sales, "
        "direct_commission, override_commission, clawback, net_commission "
        "from marts.distributor_commissions where settlement_month = ? "
        "order by net_commission desc, distributor_id limit 10",
        [month],
    )
    return month, top


def _quality(con: duckdb.DuckDBPyConnection, as_of: date) -> tuple[Records, Records]:
    rows = _records(
        con,
        "select source, count(*) as quarantined_rows, min(file_date) as first_day, "
        "max(file_date) as last_day from quarantine.rejected_rows "
        "where file_date > ? - 30 or file_date is null group by source order by source",
        [as_of],
    )
    files = _records(
        con,
        "select source, file, reason from quarantine.rejected_files order by source, file",
        [],
    )
    return rows, files


STYLE = """
body { font-family: -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", sans-serif;
       margin: 2em auto; max-width: 1000px; color: #222; }
h1 { margin-bottom: 0; } .meta { color: #666; margin-top: 0.3em; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
.none { color: #888; } svg { max-width: 100%; height: auto; }
"""


def build_kpi_report(
    warehouse_path: str | Path,
    out_path: str | Path | None = None,
    work_db_path: str | None = None,
) -> KpiReport:
    """Read the published file (read-only), write the HTML report, return its summary. The
    last build's data-quality warnings come from the working database when it is given."""
    out = Path(out_path) if out_path else report_path(warehouse_path)
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        as_of = report_day(con)
        published = fetch_row(
            con, "select max(published_at), max(siyu_version) from marts.publish_info"
        )
        if as_of is None:
            sections = "<p class='none'>The serving file has no KPI yet.</p>"
            markdown = "No KPI yet."
        else:
            sections, markdown = _sections(con, as_of, work_db_path)
    finally:
        con.close()
    published_at, version = published if published else (None, None)
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Siyu KPI report {as_of or ''}</title><style>{STYLE}</style></head><body>"
        f"<h1>Siyu KPI report</h1><p class='meta'>Data as of {as_of or '–'} · published "
        f"{published_at or '–'} · Siyu {version or '–'}</p>{sections}</body></html>"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.tmp")
    temporary.write_text(page, encoding="utf-8")
    temporary.replace(out)  # a browser never reads half a report
    return KpiReport(path=out, as_of=as_of, markdown=f"**Data as of {as_of}**\n\n{markdown}")


def _sections(
    con: duckdb.DuckDBPyConnection, as_of: date, work_db_path: str | None
) -> tuple[str, str]:
    card = scorecard(con, as_of)
    card_rows = _scorecard_rows(card)
    followers_svg, followers = _followers(con, as_of)
    channels_svg, channels = _channels(con, as_of)
    content_svg, articles = _content(con, as_of)
    month, distributors = _distributors(con)
    quarantined, rejected_files = _quality(con, as_of)
    warnings = data_quality_warning_lines(work_db_path) if work_db_path else []
    warning_items = "".join(f"<li>{html.escape(line.strip())}</li>" for line in warnings)
    sections = "".join(
        [
            f"<h2>KPI scorecard</h2>{_table(card_rows)}{_kpi_chart(con, as_of)}",
            f"<h2>Follower growth</h2>{followers_svg}<p>Last 7 days:</p>{_table(followers)}",
            "<h2>Channels, last 30 days</h2><p>CAC = spend / new users (CNY); return on spend"
            f" = GMV / spend.</p>{channels_svg}{_table(channels)}",
            f"<h2>Content, last 30 days</h2>{content_svg}{_table(articles)}",
            f"<h2>Distributors, {month or '–'}</h2>{_table(distributors)}",
            "<h2>Data quality</h2><p>Rows quarantined in files of the last 30 days:</p>"
            f"{_table(quarantined)}<p>Rejected files:</p>{_table(rejected_files)}"
            f"<p>Warnings of the last build:</p>"
            + (f"<ul>{warning_items}</ul>" if warning_items else "<p class='none'>None.</p>"),
        ]
    )
    lines = ["| KPI | latest | target | |", "|---|---|---|---|"]
    for kpi, latest, target, verdict, *_ in card_rows.rows:
        lines.append(f"| {kpi} | {latest} | {target} | {verdict} |")
    quarantined_total = sum(row[1] for row in quarantined.rows)
    lines.append(
        f"\nQuarantined rows (30 days): {quarantined_total}; rejected files: "
        f"{len(rejected_files)}; warnings: {len(warnings)}"
    )
    return sections, "\n".join(lines)
