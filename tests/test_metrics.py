"""The semantic layer (dbt MetricFlow) against the fixture's published file: at the marts' own
grain every metric equals its mart; over coarser grains the figures below are computed by hand
from the fixture's marts (tests/fixtures/README.md); `siyu metrics` reads the file read-only,
outside the writer lock, and while a refresh swaps the file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.runner import writer_lock
from orchestration.serving.metrics import MetricsError, MetricsRequest, SemanticLayer
from orchestration.serving.publish import publish_serving_file
from tests.helpers import PipelineRun
from tests.test_cli import siyu

pytestmark = pytest.mark.e2e

Key = tuple[object, ...]


@pytest.fixture(scope="module")
def layer(fixture_run: PipelineRun) -> Iterator[SemanticLayer]:
    with SemanticLayer(fixture_run.settings.warehouse_path) as semantic_layer:
        yield semantic_layer


def metric_rows(
    layer: SemanticLayer, metric: str, group_by: tuple[str, ...], **options: object
) -> dict[Key, object]:
    frame = layer.query(MetricsRequest(metrics=(metric,), group_by=group_by, **options)).frame  # type: ignore[arg-type]
    return {tuple(row[:-1]): row[-1] for row in frame.select([*group_by, metric]).iter_rows()}


def mart_rows(run: PipelineRun, sql: str) -> dict[Key, object]:
    with duckdb.connect(run.settings.warehouse_path, read_only=True) as con:
        return {tuple(row[:-1]): row[-1] for row in con.execute(sql).fetchall()}


def same(metric: object, mart: object, places: int | None = None) -> bool:
    """Equal, NULL meaning NULL; money the mart rounded to cents compares within half a cent."""
    if metric is None or mart is None:
        return metric is None and mart is None
    if places is not None:
        return abs(Decimal(str(metric)) - Decimal(str(mart))) <= Decimal(5) / 10 ** (places + 1)
    return abs(float(metric) - float(mart)) < 1e-12  # type: ignore[arg-type]


def assert_equal_to_the_mart(
    metric_values: dict[Key, object], mart_values: dict[Key, object], places: int | None = None
) -> None:
    """Every key of either side, a key missing on one side meaning NULL there."""
    differences = {
        key: (metric_values.get(key), mart_values.get(key))
        for key in metric_values.keys() | mart_values.keys()
        if not same(metric_values.get(key), mart_values.get(key), places)
    }
    assert not differences, differences
    assert any(value not in (None, 0) for value in mart_values.values())  # not vacuous


DAY = ("metric_time__day",)
DAY_AND_CHANNEL = ("metric_time__day", "channel")

# metric, group-by, the mart's figure at the same grain, places the mart rounds to
AT_THE_MARTS_GRAIN = [
    ("daily_active_rate", DAY, "select date, daily_active_rate from marts.daily_active_rate", None),
    (
        "daily_active_rate",
        DAY_AND_CHANNEL,
        "select date, channel_code, daily_active_rate from marts.daily_active_rate_by_channel",
        None,
    ),
    (
        "order_conversion_rate",
        DAY,
        "select date, order_conversion_rate from marts.order_conversion",
        None,
    ),
    (
        "buyer_conversion_rate",
        DAY,
        "select date, buyer_conversion_rate from marts.order_conversion",
        None,
    ),
    (
        "channel_order_conversion_rate",
        DAY_AND_CHANNEL,
        "select date, channel_code, order_conversion_rate from marts.order_conversion_by_channel",
        None,
    ),
    ("gmv", DAY, "select date, gmv from marts.average_order_value", None),
    ("net_revenue", DAY, "select date, net_revenue from marts.average_order_value", None),
    ("paid_orders", DAY, "select date, paid_orders from marts.average_order_value", None),
    (
        "gmv",
        DAY_AND_CHANNEL,
        "select date, channel_code, gmv from marts.average_order_value_by_channel",
        None,
    ),
    (
        "average_order_value",
        DAY,
        "select date, average_order_value from marts.average_order_value",
        2,
    ),
    (
        "customer_unit_price",
        DAY,
        "select date, customer_unit_price from marts.average_order_value",
        2,
    ),
    (
        "customer_acquisition_cost",
        DAY_AND_CHANNEL,
        "select date, channel_code, customer_acquisition_cost from marts.channel_performance",
        2,
    ),
    (
        "return_on_spend",
        DAY_AND_CHANNEL,
        "select date, channel_code, return_on_spend from marts.channel_performance",
        None,
    ),
    (
        "article_open_rate",
        DAY,
        "select date, value from marts.kpi_scorecard where kpi = 'article_open_rate'",
        None,
    ),
    (
        "article_forward_rate",
        DAY,
        "select date, value from marts.kpi_scorecard where kpi = 'article_forward_rate'",
        None,
    ),
    ("net_followers", DAY, "select date, net_followers from marts.follower_growth", None),
    ("total_followers", DAY, "select date, total_followers from marts.follower_growth", None),
    (
        "retention_rate_d1",
        DAY,
        "select cohort_date, retention_rate_d1 from marts.user_retention",
        None,
    ),
    (
        "retention_rate_d7",
        DAY,
        "select cohort_date, retention_rate_d7 from marts.user_retention",
        None,
    ),
    (
        "retention_rate_d30",
        DAY,
        "select cohort_date, retention_rate_d30 from marts.user_retention",
        None,
    ),
    (
        "repeat_purchase_rate",
        ("metric_time__month",),
        "select month, repeat_purchase_rate from marts.buyer_growth_accounting",
        None,
    ),
    (
        "net_commission",
        ("metric_time__month",),
        "select settlement_month, sum(net_commission) from marts.distributor_commissions "
        "group by settlement_month",
        None,
    ),
]


@pytest.mark.parametrize(
    ("metric", "group_by", "mart_sql", "places"),
    AT_THE_MARTS_GRAIN,
    ids=[f"{case[0]}-{'-'.join(case[1])}" for case in AT_THE_MARTS_GRAIN],
)
def test_at_the_marts_grain_a_metric_is_its_mart(
    layer: SemanticLayer,
    fixture_run: PipelineRun,
    metric: str,
    group_by: tuple[str, ...],
    mart_sql: str,
    places: int | None,
) -> None:
    assert_equal_to_the_mart(
        metric_rows(layer, metric, group_by), mart_rows(fixture_run, mart_sql), places
    )


MONTH = ("metric_time__month",)
OCT, NOV, DEC = date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)


def test_rates_over_a_month_are_ratios_of_the_days_sums(layer: SemanticLayer) -> None:
    # active / registered users over the days: Oct (2+2)/(2+3); Nov 1+2+2 active on 11-01,
    # 11-06, 11-29 of 4 registered users on each of 30 days; Dec 0 of 6
    assert metric_rows(layer, "daily_active_rate", MONTH) == {
        (OCT,): pytest.approx(4 / 5),
        (NOV,): pytest.approx(5 / 120),
        (DEC,): 0.0,
    }
    # paid orders / visitors: Oct (1+2)/(3+2); Nov (2+1+1)/(2+2+2) (11-02 and 11-24 have orders
    # and no visitors); Dec 6 orders, no visitors
    assert metric_rows(layer, "order_conversion_rate", MONTH) == {
        (OCT,): pytest.approx(3 / 5),
        (NOV,): pytest.approx(4 / 6),
        (DEC,): None,
    }
    # gmv / paid orders of November, by the order's channel: ghost 99.99 / 1, qr (35 + 130) / 2,
    # kol 120 / 1; unknown sold nothing (0 orders: NULL)
    november = metric_rows(layer, "average_order_value", DAY_AND_CHANNEL[1:] + MONTH, start=NOV)
    assert {key: value for key, value in november.items() if key[1] == NOV} == {
        ("ghost", NOV): pytest.approx(99.99),
        ("qr", NOV): pytest.approx(82.5),
        ("kol", NOV): pytest.approx(120.0),
        ("unknown", NOV): None,
    }


def test_money_and_counts_add_up_over_the_period(layer: SemanticLayer) -> None:
    assert metric_rows(layer, "gmv", MONTH) == {
        (OCT,): Decimal("320.00"),  # 90 + 230
        (NOV,): Decimal("384.99"),  # 99.99 + 35 + 120 + 130
        (DEC,): Decimal("4100.00"),  # 2125 + 1975
    }
    # settlement months: Oct A1 32.10 + C1 0; Nov A1 -21.60 + B1 13.05 + C1 0
    assert metric_rows(layer, "net_commission", MONTH) == {
        (OCT,): Decimal("32.10"),
        (NOV,): Decimal("-8.55"),
    }
    # followers on the period's last date: 1015 on 11-02 (the fixture has no WeChat figure later)
    assert metric_rows(layer, "total_followers", MONTH) == {
        (OCT,): 1012,
        (NOV,): None,
        (DEC,): None,
    }
    assert metric_rows(
        layer, "total_followers", DAY, start=date(2026, 11, 2), end=date(2026, 11, 2)
    ) == {(date(2026, 11, 2),): 1015}


def test_retention_counts_only_cohorts_whose_day_n_is_in_the_calendar(
    layer: SemanticLayer,
) -> None:
    quarter = ("metric_time__quarter",)
    q4 = date(2026, 10, 1)
    # day 1: retained 1 (cohort 10-30) of the users of the cohorts 10-30 (2), 10-31 (1) and
    # 11-01 (1); cohort 12-01 (2 users) has no day 1 in the calendar and does not count
    assert metric_rows(layer, "retention_rate_d1", quarter) == {(q4,): pytest.approx(1 / 4)}
    # day 30 of cohort 10-31 is 11-30 and of 11-01 is 12-01, both in the calendar
    assert metric_rows(layer, "retention_rate_d30", MONTH) == {
        (OCT,): pytest.approx(1 / 3),
        (NOV,): 0.0,
        (DEC,): None,
    }
    # buyers with 2+ paid orders in their month / buyers, over Oct .. Dec: (0+1+2) / (3+3+4)
    assert metric_rows(layer, "repeat_purchase_rate", quarter) == {(q4,): pytest.approx(3 / 10)}


def test_article_open_rate_keeps_the_scorecards_rule_over_a_period(
    layer: SemanticLayer,
) -> None:
    # October: 105_1 comes from article_detail, so its own rate 0.095 alone (the article_total
    # articles 100_1, 101_1 and 103_1 are not mixed in); November: 102_1's 0.31
    assert metric_rows(layer, "article_open_rate", MONTH) == {
        (OCT,): pytest.approx(0.095),
        (NOV,): pytest.approx(0.31),
    }
    # forward rate: shares / reads of the month's articles, (14+5+0+15) / (140+95+0+300)
    assert metric_rows(layer, "article_forward_rate", MONTH)[(OCT,)] == pytest.approx(34 / 535)


def test_a_metric_without_channels_refuses_to_be_split_by_channel(
    layer: SemanticLayer,
) -> None:
    with pytest.raises(MetricsError, match="does not match any of the available group-by-items"):
        layer.query(MetricsRequest(metrics=("customer_unit_price",), group_by=("channel",)))
    with pytest.raises(MetricsError, match="does not exactly match any known metrics"):
        layer.query(MetricsRequest(metrics=("conversion",)))


def test_queries_read_the_file_read_only_outside_the_writer_lock(
    tmp_path: Path, fixture_run: PipelineRun
) -> None:
    serving = tmp_path / "siyu.duckdb"
    shutil.copyfile(fixture_run.settings.warehouse_path, serving)
    before = serving.read_bytes()
    work_db = tmp_path / "siyu.work.duckdb"
    with writer_lock(str(work_db)), SemanticLayer(serving) as semantic_layer:  # a refresh runs
        answer = semantic_layer.query(MetricsRequest(metrics=("gmv",), group_by=MONTH))
    assert answer.frame.height == 3
    assert serving.read_bytes() == before
    assert not Path(f"{serving}.wal").exists()


READER = textwrap.dedent(
    """
    import json, sys, time
    from orchestration.serving.metrics import MetricsRequest, SemanticLayer
    serving, ready, out, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    request = MetricsRequest(metrics=("gmv",))
    answers, errors = set(), []
    open(ready, "w").close()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with SemanticLayer(serving) as layer:  # a new attach: the file as it is now
                answers.add(str(layer.query(request).frame.item()))
        except Exception as error:
            errors.append(repr(error))
    json.dump([sorted(answers), errors], open(out, "w"))
    """
)


def test_metrics_answer_while_a_refresh_swaps_the_serving_file(
    tmp_path: Path, fixture_run: PipelineRun
) -> None:
    state_a = tmp_path / "a.work.duckdb"
    state_b = tmp_path / "b.work.duckdb"
    shutil.copyfile(fixture_run.settings.work_db_path, state_a)
    shutil.copyfile(fixture_run.settings.work_db_path, state_b)
    with duckdb.connect(str(state_b)) as con:  # state B: one more yuan of GMV on one row
        con.execute(
            "update marts.average_order_value_by_channel set gmv = gmv + 1 "
            "where date = '2026-10-30' and channel_code = 'qr'"
        )
    serving = tmp_path / "serving" / "siyu.duckdb"
    publish_serving_file(state_a, serving, "v1.1.0")
    ready, out = tmp_path / "ready", tmp_path / "answers.json"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(serving), str(ready), str(out), "10"],
        cwd=Path(__file__).resolve().parents[1],
    )
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    publishes = 0
    while reader.poll() is None:
        publish_serving_file(state_b if publishes % 2 == 0 else state_a, serving, "v1.1.0")
        publishes += 1
    assert reader.returncode == 0
    answers, errors = json.loads(out.read_text())
    assert errors == []
    assert publishes >= 3
    assert set(answers) == {"4804.99", "4805.99"}  # 320 + 384.99 + 4100, and state B's


def test_siyu_metrics_lists_queries_and_says_what_is_wrong(
    tmp_path: Path, fixture_run: PipelineRun
) -> None:
    warehouse = ["--warehouse", fixture_run.settings.warehouse_path]
    listed = siyu("metrics", "list", *warehouse, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    names = {line.split()[0] for line in listed.stdout.splitlines()}
    headline = {
        "daily_active_rate",
        "order_conversion_rate",
        "buyer_conversion_rate",
        "gmv",
        "net_revenue",
        "average_order_value",
        "customer_unit_price",
        "article_open_rate",
        "article_forward_rate",
        "net_followers",
        "customer_acquisition_cost",
        "return_on_spend",
        "net_commission",
        "retention_rate_d1",
        "retention_rate_d7",
        "retention_rate_d30",
        "repeat_purchase_rate",
    }
    assert headline <= names
    out = tmp_path / "gmv.csv"
    query = siyu(
        "metrics", "query", "--metrics", "gmv,paid_orders", "--group-by",
        "metric_time__month,channel", "--start", "2026-11-01", "--csv", str(out),
        *warehouse, cwd=tmp_path,
    )  # fmt: skip
    assert query.returncode == 0, query.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == "metric_time__month,channel,gmv,paid_orders"
    assert "2026-11-01,qr,165.00,2" in lines
    wrong = siyu("metrics", "query", "--metrics", "gmvv", *warehouse, cwd=tmp_path)
    assert wrong.returncode == 1
    assert "does not exactly match any known metrics" in wrong.stderr and "'gmv'" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    missing = siyu("metrics", "list", "--warehouse", str(tmp_path / "none.duckdb"), cwd=tmp_path)
    assert missing.returncode == 1
    assert "run `siyu refresh`" in missing.stderr
