"""Every mart, on the hand-made fixture, against figures computed by hand.

See tests/fixtures/README.md for the cases. Days: D1 = 10-30, D2 = 10-31, D3 = 11-01,
D4 = 11-02, D5 = 11-03 (the last day with mall and spend files: spend header-only), then only
the article_detail fetch of 11-30 (DN), whose detail at day 29 ends the calendar.
Users: 001 qr (D1), 002 qr (D1; kol in its first file, qr in the latest), 003 unknown (D2),
004 ghost (D3). 099 visits and buys but never registers.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest

from tests.helpers import M, PipelineRun, assert_row, by_key, rows

D1, D2, D3, D4, D5 = (
    date(2026, 10, 30),
    date(2026, 10, 31),
    date(2026, 11, 1),
    date(2026, 11, 2),
    date(2026, 11, 3),
)
DN = date(2026, 11, 30)
DL = date(2026, 12, 1)  # the calendar's last date: the mall files of 12-01

pytestmark = pytest.mark.e2e
CALENDAR = [D1 + timedelta(days=offset) for offset in range((DL - D1).days + 1)]  # 33 days
CHANNELS = ["ghost", "kol", "qr", "unknown"]


def test_daily_active_rate(serving: duckdb.DuckDBPyConnection) -> None:
    # registered: D1 {001, 002}, D2 +003, D3 +004. Active = registered by the end of the day
    # with a session that day: D1 001 (s1), 002 (s2 at 23:50, after registering at 23:30);
    # D2 001 (s4 at 00:10 local, s6), 003; D3 004 only (001's s5 on D3 is a quarantined
    # conflicting duplicate; 099 never registered).
    expected = {
        D1: (2, 2, 1.0),
        D2: (3, 2, 2 / 3),
        D3: (4, 1, 0.25),
        D4: (4, 0, 0.0),
        D5: (4, 0, 0.0),
        DN: (4, 0, 0.0),
    }
    actual = by_key(rows(serving, "select * from marts.daily_active_rate"), "date")
    assert sorted(actual) == CALENDAR
    for day, (registered, active, rate) in expected.items():
        assert_row(
            actual[day],
            {"registered_users": registered, "active_users": active, "daily_active_rate": rate},
            f"dar[{day}]",
        )


def test_daily_active_rate_by_channel(serving: duckdb.DuckDBPyConnection) -> None:
    actual = by_key(
        rows(serving, "select * from marts.daily_active_rate_by_channel"), "date", "channel_code"
    )
    assert len(actual) == len(CALENDAR) * len(CHANNELS)
    expected = {
        # qr: 001 and 002 (002's latest users row says qr)
        (D1, "qr"): (2, 2, 1.0),
        (D2, "qr"): (2, 1, 0.5),
        (D3, "qr"): (2, 0, 0.0),
        (D4, "qr"): (2, 0, 0.0),
        (D5, "qr"): (2, 0, 0.0),
        (D1, "unknown"): (0, 0, None),
        (D2, "unknown"): (1, 1, 1.0),
        (D3, "unknown"): (1, 0, 0.0),
        (D2, "ghost"): (0, 0, None),
        (D3, "ghost"): (1, 1, 1.0),
        (D5, "ghost"): (1, 0, 0.0),
        (D1, "kol"): (0, 0, None),
        (D5, "kol"): (0, 0, None),
    }
    for key, (registered, active, rate) in expected.items():
        assert_row(
            actual[key],
            {"registered_users": registered, "active_users": active, "daily_active_rate": rate},
            f"dar_by_channel{key}",
        )
    totals = by_key(rows(serving, "select * from marts.daily_active_rate"), "date")
    for day in CALENDAR:
        channel_rows = [actual[(day, c)] for c in CHANNELS]
        assert sum(r["registered_users"] for r in channel_rows) == totals[day]["registered_users"]
        assert sum(r["active_users"] for r in channel_rows) == totals[day]["active_users"]


def test_order_conversion(serving: duckdb.DuckDBPyConnection) -> None:
    # visitors: D1 {001, 002, 099}, D2 {001, 003}, D3 {004, 099}; paid by paid date:
    # D1 O1; D2 O2 (paid 16:05Z = 00:05 local) and O3; D3 O4, O5; D4 O7.
    expected = {
        D1: (3, 1, 1, 1 / 3, 1 / 3),
        D2: (2, 2, 2, 1.0, 1.0),
        D3: (2, 2, 2, 1.0, 1.0),
        D4: (0, 1, 1, None, None),
        D5: (0, 0, 0, None, None),
    }
    actual = by_key(rows(serving, "select * from marts.order_conversion"), "date")
    assert sorted(actual) == CALENDAR
    for day, (visitors, orders, buyers, order_rate, buyer_rate) in expected.items():
        assert_row(
            actual[day],
            {
                "visitors": visitors,
                "paid_orders": orders,
                "buyers": buyers,
                "order_conversion_rate": order_rate,
                "buyer_conversion_rate": buyer_rate,
            },
            f"oc[{day}]",
        )


def test_order_conversion_by_channel(serving: duckdb.DuckDBPyConnection) -> None:
    # visitors by the session's channel, orders by the order's channel
    actual = by_key(
        rows(serving, "select * from marts.order_conversion_by_channel"), "date", "channel_code"
    )
    assert len(actual) == len(CALENDAR) * len(CHANNELS)
    expected = {
        (D1, "qr"): (1, 1, 1, 1.0),
        (D1, "kol"): (2, 0, 0, 0.0),
        (D1, "ghost"): (0, 0, 0, None),
        (D2, "kol"): (0, 2, 2, None),
        (D2, "qr"): (2, 0, 0, 0.0),
        (D2, "unknown"): (1, 0, 0, 0.0),
        (D3, "ghost"): (1, 1, 1, 1.0),
        (D3, "qr"): (1, 1, 1, 1.0),
        (D3, "kol"): (0, 0, 0, None),
        (D4, "kol"): (0, 1, 1, None),
        (D5, "qr"): (0, 0, 0, None),
    }
    for key, (visitors, orders, buyers, rate) in expected.items():
        assert_row(
            actual[key],
            {
                "visitors": visitors,
                "paid_orders": orders,
                "buyers": buyers,
                "order_conversion_rate": rate,
                "buyer_conversion_rate": rate,
            },
            f"oc_by_channel{key}",
        )
    # O1 .. O5, O7; O15 (11-24, in the late export of 11-30); O9 .. O14 (12-01)
    assert sum(r["paid_orders"] for r in actual.values()) == 13


def test_average_order_value(serving: duckdb.DuckDBPyConnection) -> None:
    # D2: O2 50.00 (1 unit) + O3 180.00 (3); D3: O4 99.99 (1) + O5 35.00 (2), refund of O3
    # 180.00 booked on its refund day; D4: O7 120.00 (4), refunds O1 30.00 + O7 20.00.
    # D3 AOV 134.99 / 2 = 67.495 → 67.50 (half away from zero); 134.99 / 3 = 44.996… → 45.00.
    expected = {
        D1: (1, 1, 2, "90.00", "0.00", "90.00", "90.00", "90.00", "45.00"),
        D2: (2, 2, 4, "230.00", "0.00", "230.00", "115.00", "115.00", "57.50"),
        D3: (2, 2, 3, "134.99", "180.00", "-45.01", "67.50", "67.50", "45.00"),
        D4: (1, 1, 4, "120.00", "50.00", "70.00", "120.00", "120.00", "30.00"),
        D5: (0, 0, 0, "0.00", "0.00", "0.00", None, None, None),
    }
    actual = by_key(rows(serving, "select * from marts.average_order_value"), "date")
    assert sorted(actual) == CALENDAR
    for day, (orders, buyers, units, gmv, refunds, net, aov, cup, aup) in expected.items():
        assert_row(
            actual[day],
            {
                "paid_orders": orders,
                "buyers": buyers,
                "units": units,
                "gmv": M(gmv),
                "refunds": M(refunds),
                "net_revenue": M(net),
                "average_order_value": None if aov is None else M(aov),
                "customer_unit_price": None if cup is None else M(cup),
                "average_unit_price": None if aup is None else M(aup),
            },
            f"aov[{day}]",
        )


def test_average_order_value_by_channel(serving: duckdb.DuckDBPyConnection) -> None:
    actual = by_key(
        rows(serving, "select * from marts.average_order_value_by_channel"), "date", "channel_code"
    )
    assert len(actual) == len(CALENDAR) * len(CHANNELS)
    expected = {
        (D1, "qr"): (1, 2, "90.00", "0.00", "90.00", "90.00", "45.00"),
        (D2, "kol"): (2, 4, "230.00", "0.00", "230.00", "115.00", "57.50"),
        (D3, "kol"): (0, 0, "0.00", "180.00", "-180.00", None, None),
        (D3, "qr"): (1, 2, "35.00", "0.00", "35.00", "35.00", "17.50"),
        (D3, "ghost"): (1, 1, "99.99", "0.00", "99.99", "99.99", "99.99"),
        (D4, "kol"): (1, 4, "120.00", "20.00", "100.00", "120.00", "30.00"),
        (D4, "qr"): (0, 0, "0.00", "30.00", "-30.00", None, None),
        (D4, "unknown"): (0, 0, "0.00", "0.00", "0.00", None, None),
    }
    for key, (orders, units, gmv, refunds, net, aov, aup) in expected.items():
        assert_row(
            actual[key],
            {
                "paid_orders": orders,
                "units": units,
                "gmv": M(gmv),
                "refunds": M(refunds),
                "net_revenue": M(net),
                "average_order_value": None if aov is None else M(aov),
                "average_unit_price": None if aup is None else M(aup),
            },
            f"aov_by_channel{key}",
        )
    # every paid order once: 574.99 on D1 .. D4, O15 (130.00) and the orders of 12-01
    # (60 + 40 + 125 + 500 + 1375 + 2000)
    assert sum(r["gmv"] for r in actual.values()) == M("4804.99")


def test_content_performance(serving: duckdb.DuckDBPyConnection) -> None:
    # latest detail after de-duplication across fetches, never a sum over stat_dates:
    # 100_1: 11-01 detail (3 days): 140 / 1000 = 0.14 < 0.15; 14 / 140 = 0.1.
    # 101_1: 11-01 detail as revised by the 11-03 fetch (300, not 310): exactly on both targets.
    # 103_1: no reads: open 0.0, forward NULL (zero denominator) so meets_forward NULL.
    # 102_1 is in both sources: its figures come from article_detail, whose latest detail is
    # day 29 (11-30, in the fetch of 11-30): WeChat's open rate 0.31; 30 / 400 = 0.075.
    # 105_1 (article_detail only): 11-03 detail (5 days) of the fetch of 11-03; open 0.095 <
    # 0.15; 5 / 95 = 0.0526 >= 0.05. Likes, comments and follows exist in article_detail only.
    expected = {
        "100_1": (
            "双十一预热",
            D1,
            "article_total",
            3,
            1000,
            140,
            14,
            8,
            None,
            None,
            None,
            0.14,
            0.1,
            False,
            True,
        ),
        "101_1": (
            "会员日",
            D2,
            "article_total",
            2,
            2000,
            300,
            15,
            4,
            None,
            None,
            None,
            0.15,
            0.05,
            True,
            True,
        ),
        "103_1": (
            "福利",
            D2,
            "article_total",
            2,
            1000,
            0,
            0,
            0,
            None,
            None,
            None,
            0.0,
            None,
            False,
            None,
        ),
        "102_1": (
            "新品",
            D3,
            "article_detail",
            30,
            None,
            400,
            30,
            6,
            20,
            5,
            8,
            0.31,
            0.075,
            True,
            True,
        ),
        "105_1": (
            "直播预告",
            D1,
            "article_detail",
            5,
            None,
            95,
            5,
            3,
            6,
            2,
            1,
            0.095,
            5 / 95,
            False,
            True,
        ),
    }
    actual = by_key(rows(serving, "select * from marts.content_performance"), "msgid")
    assert sorted(actual) == sorted(expected)
    names = [
        "title",
        "publish_date",
        "source_api",
        "stat_days",
        "delivered",
        "reads",
        "shares",
        "favorites",
        "likes",
        "comments",
        "follows_after_read",
        "open_rate",
        "forward_rate",
        "meets_open_target",
        "meets_forward_target",
    ]
    for msgid, values in expected.items():
        assert_row(actual[msgid], dict(zip(names, values, strict=True)), f"content[{msgid}]")
    # the mart's columns, in the spec's order
    assert list(next(iter(actual.values()))) == ["msgid", *names]


@pytest.mark.parametrize("run_fixture", ["fixture_run", "day_by_day_run"])
def test_article_details_across_fetches(request: pytest.FixtureRequest, run_fixture: str) -> None:
    # every fetched detail once per source, the latest file's figures winning
    run: PipelineRun = request.getfixturevalue(run_fixture)
    with duckdb.connect(run.settings.work_db_path, read_only=True) as con:
        stats = {
            (api, msgid, stat): (readers, sharers, delivered, fetched)
            for api, msgid, stat, readers, sharers, delivered, fetched in con.execute(
                "select source_api, msgid, stat_date, readers, sharers, delivered, fetch_date "
                "from intermediate.int_article_stats_deduplicated"
            ).fetchall()
        }
    # 105_1's 10-30 detail: 50 readers in the fetch of 10-30, 55 in those of 11-01 and 11-02,
    # 56 in the latest one, of 11-03
    assert stats[("article_detail", "105_1", D1)] == (56, 2, None, D5)
    # 102_1's 11-02 detail: provisional in the is_delay fetch of 11-02 (250 readers, 8 shares),
    # final in the fetch of 11-03 (260, 13), which wins
    assert stats[("article_detail", "102_1", D4)] == (260, 13, None, D5)
    # 102_1 in article_total too (the 11-03 fetch adds its 11-02 detail: 250 / 1012), though
    # content_performance takes article_detail's figures
    assert stats[("article_total", "102_1", D4)] == (250, 10, 1012, D5)
    assert len([key for key in stats if key[0] == "article_detail"]) == 10


def test_follower_growth(serving: duckdb.DuckDBPyConnection) -> None:
    # D2 post-push: articles published on D2; new over D2..D4 = 13 + 0 + 7 = 20, / D1 total 1000.
    # D1: previous total unknown → NULL. D3: published, but D5 has no user_summary file → NULL.
    # D5: no WeChat files yet: 0 new / 0 lost, total unknown.
    expected = {
        D1: (25, 3, 22, 1000, None, None),
        D2: (13, 1, 12, 1012, 12 / 1000, 20 / 1000),
        D3: (0, 0, 0, 1012, 0.0, None),
        D4: (7, 4, 3, 1015, 3 / 1012, None),
        D5: (0, 0, 0, None, 0.0, None),
        # after D5 no user_summary or user_cumulate file: 0 new / 0 lost, totals unknown
        DN: (0, 0, 0, None, None, None),
    }
    actual = by_key(rows(serving, "select * from marts.follower_growth"), "date")
    assert sorted(actual) == CALENDAR
    for day, (new, lost, net, total, growth, post_push) in expected.items():
        assert_row(
            actual[day],
            {
                "new_followers": new,
                "lost_followers": lost,
                "net_followers": net,
                "total_followers": total,
                "growth_rate": growth,
                "post_push_growth_rate": post_push,
            },
            f"follower_growth[{day}]",
        )


def test_follower_growth_by_source(serving: duckdb.DuckDBPyConnection) -> None:
    actual = by_key(
        rows(serving, "select * from marts.follower_growth_by_source"), "date", "user_source"
    )
    documented = [0, 1, 17, 30, 57, 100, 149, 161, 200, 201]
    assert sorted({k[1] for k in actual}) == sorted(documented + [999])
    assert len(actual) == len(CALENDAR) * 11
    nonzero = {
        (D1, 0): ("other sources", 5, 1, 4),
        (D1, 30): ("QR-code scan", 20, 2, 18),
        (D2, 1): ("account search", 10, 0, 10),
        (D2, 999): ("unknown (999)", 3, 1, 2),
        (D4, 30): ("QR-code scan", 7, 4, 3),
    }
    for key, record in actual.items():
        name, new, lost, net = nonzero.get(key, (record["source_name"], 0, 0, 0))
        assert_row(
            record,
            {
                "source_name": name,
                "new_followers": new,
                "lost_followers": lost,
                "net_followers": net,
            },
            f"by_source{key}",
        )
    assert actual[(D3, 999)]["source_name"] == "unknown (999)"


def test_channel_performance(serving: duckdb.DuckDBPyConnection) -> None:
    actual = by_key(
        rows(serving, "select * from marts.channel_performance"), "date", "channel_code"
    )
    assert len(actual) == len(CALENDAR) * len(CHANNELS)
    assert actual[(D1, "ghost")]["channel_name"] == "unknown"
    assert actual[(D1, "ghost")]["platform"] == "unknown"
    assert actual[(D1, "qr")]["channel_name"] == "门店二维码"  # from the GBK registry
    assert actual[(D1, "kol")]["platform"] == "kol"
    expected = {
        # qr D1: spend 10.01, 2 new users → CAC 5.005 → 5.01; ROS 90.00 / 10.01
        (D1, "qr"): ("10.01", 200, 3, 3 / 200, 2, 1, 1, "90.00", "5.01", 90 / 10.01),
        (D1, "kol"): ("0.00", 0, 0, None, 0, 2, 0, "0.00", None, None),
        (D2, "kol"): ("100.00", 1000, 50, 0.05, 0, 0, 2, "230.00", None, 2.3),
        (D2, "qr"): ("0.00", 0, 0, None, 0, 2, 0, "0.00", None, None),
        (D2, "unknown"): ("0.00", 0, 0, None, 1, 1, 0, "0.00", "0.00", None),
        (D3, "kol"): ("30.00", 0, 0, None, 0, 0, 0, "0.00", None, 0.0),
        (D3, "ghost"): ("0.00", 0, 0, None, 1, 1, 1, "99.99", "0.00", None),
        (D4, "kol"): ("0.00", 0, 0, None, 0, 0, 1, "120.00", None, None),
        (D5, "qr"): ("0.00", 0, 0, None, 0, 0, 0, "0.00", None, None),
    }
    names = [
        "spend",
        "impressions",
        "clicks",
        "click_through_rate",
        "new_users",
        "visitors",
        "paid_orders",
        "gmv",
        "customer_acquisition_cost",
        "return_on_spend",
    ]
    for key, values in expected.items():
        record = dict(zip(names, values, strict=True))
        for money in ("spend", "gmv", "customer_acquisition_cost"):
            record[money] = None if record[money] is None else M(record[money])
        assert_row(actual[key], record, f"channel_performance{key}")


def test_distributor_commissions(serving: duckdb.DuckDBPyConnection) -> None:
    # October: A1 sells O1 (10-30, gold 0.10: 9.00) and O3 (10-31, gold 0.12: 21.60); C1 sells
    # O2 while suspended (earns 0), its parent A1 gets the override 50 × 0.03 = 1.50.
    # November: B1 (gold from 11-01) sells O4: 99.99 × 0.12 = 11.9988 → 12.00, A1 overrides
    # 99.99 × 0.03 = 2.9997 → 3.00; C1 (bronze, no rule) sells O5: 0, its new parent B1
    # overrides 35 × 0.03 = 1.05. Clawbacks in November at the rates applied in October:
    # O1 30 × 0.10 = 3.00 and O3 180 × 0.12 = 21.60, both A1's.
    expected = {
        (date(2026, 10, 1), "A1"): (
            "Alpha",
            "gold",
            2,
            "270.00",
            "30.60",
            "50.00",
            "1.50",
            "0.00",
            "32.10",
        ),
        (date(2026, 10, 1), "C1"): (
            "Gamma",
            "silver",
            1,
            "50.00",
            "0.00",
            "0.00",
            "0.00",
            "0.00",
            "0.00",
        ),
        (date(2026, 11, 1), "A1"): (
            "Alpha",
            "gold",
            0,
            "0.00",
            "0.00",
            "99.99",
            "3.00",
            "24.60",
            "-21.60",
        ),
        (date(2026, 11, 1), "B1"): (
            "Beta",
            "gold",
            1,
            "99.99",
            "12.00",
            "35.00",
            "1.05",
            "0.00",
            "13.05",
        ),
        (date(2026, 11, 1), "C1"): (
            "Gamma",
            "bronze",
            1,
            "35.00",
            "0.00",
            "0.00",
            "0.00",
            "0.00",
            "0.00",
        ),
    }
    actual = by_key(
        rows(serving, "select * from marts.distributor_commissions"),
        "settlement_month",
        "distributor_id",
    )
    assert sorted(actual) == sorted(expected)
    names = [
        "distributor_name",
        "tier",
        "direct_orders",
        "direct_sales",
        "direct_commission",
        "override_sales",
        "override_commission",
        "clawback",
        "net_commission",
    ]
    for key, values in expected.items():
        record = dict(zip(names, values, strict=True))
        for column in names[3:]:
            record[column] = M(record[column])
        assert_row(actual[key], record, f"commissions{key}")


def test_kpi_scorecard(serving: duckdb.DuckDBPyConnection) -> None:
    actual = by_key(rows(serving, "select * from marts.kpi_scorecard"), "date", "kpi")
    kpis = {
        "daily_active_rate",
        "order_conversion_rate",
        "average_order_value",
        "article_open_rate",
        "article_forward_rate",
        "follower_growth_rate",
    }
    assert {k[1] for k in actual} == kpis
    assert len(actual) == len(CALENDAR) * len(kpis)
    # article open rates: D2 has article_total articles only, a ratio of sums: (300 + 0) /
    # (2000 + 1000) = 0.1 (a mean of rates would be 0.075). On D1 (a day that mixes the sources:
    # 100_1 from article_total, 105_1 from article_detail) and D3 (102_1 from article_detail)
    # the mean of the article_detail articles' own rates alone: D1 0.095, D3 0.31. Forward
    # rates are ratios of sums over all the day's articles: D1 (14 + 5) / (140 + 95); D2
    # (15 + 0) / (300 + 0) = 0.05, on target; D3 30 / 400 = 0.075.
    expected = {
        (D1, "order_conversion_rate"): (1 / 3, 0.08, True),
        (D4, "order_conversion_rate"): (None, 0.08, None),
        (D1, "article_open_rate"): (0.095, 0.15, False),
        (D2, "article_open_rate"): (0.1, 0.15, False),
        (D3, "article_open_rate"): (0.31, 0.15, True),
        (D4, "article_open_rate"): (None, 0.15, None),
        (D1, "article_forward_rate"): (19 / 235, 0.05, True),
        (D2, "article_forward_rate"): (0.05, 0.05, True),
        (D3, "article_forward_rate"): (0.075, 0.05, True),
        (DN, "article_open_rate"): (None, 0.15, None),
        (D3, "average_order_value"): (67.5, None, None),
        (D5, "average_order_value"): (None, None, None),
        (D2, "daily_active_rate"): (2 / 3, None, None),
        (D2, "follower_growth_rate"): (0.012, None, None),
        (D1, "follower_growth_rate"): (None, None, None),
    }
    for key, (value, target, met) in expected.items():
        assert_row(
            actual[key],
            {"value": value, "target": target, "met": met, "comparison": ">="},
            f"kpi{key}",
        )
