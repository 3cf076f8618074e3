"""The growth marts on the hand-made fixture, against figures computed by hand.

The calendar runs 10-30 .. 12-01 (DL, the as-of date): months Oct, Nov, Dec. Current states of
the paid orders (see tests/fixtures/README.md), by buyer:
- 001 (qr, registered 10-30): O1 10-30 90.00 (30.00 refunded 11-02), O5 11-01 35.00 coupon,
  O12 12-01 500.00, O13 12-01 1375.00 coupon
- 002 (qr in the latest users file, referred by A1, registered 10-30): O2 10-31 50.00, O7 11-02
  120.00 (20.00 refunded 11-02), O15 11-24 130.00 flash_sale (in the late export of 11-30)
- 099 (never registers: channel unknown): O3 10-31 180.00 group_buy (fully refunded 11-01),
  O11 12-01 125.00 group_buy
- 004 (ghost, registered 11-01): O4 11-01 99.99 flash_sale
- 005 (qr, registered 12-01, referred by Z9, which no roster lists): O9 60.00 group_buy and O10
  40.00 bargain, paid at the same instant (10:00+08:00 = 02:00Z): O10 is the first paid order,
  'O10' < 'O9' as text
- 006 (kol, registered 12-01): O14 12-01 2000.00 coupon
003 (registered 10-31) never buys. Sessions: 001 on 10-30, 10-31 (+1), 11-29 (+30); 002 on
10-30, 11-06 (+7); 003 on 10-31, 11-06 (+6) and 11-29 (+29), a day off its +7 and +30. The
sessions of 11-06 and 11-29 arrive late, in the visits file of 11-30.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest

from tests.helpers import M, assert_row, by_key, rows

pytestmark = pytest.mark.e2e

D1, D2, D3 = date(2026, 10, 30), date(2026, 10, 31), date(2026, 11, 1)
DL = date(2026, 12, 1)
CALENDAR = [D1 + timedelta(days=offset) for offset in range((DL - D1).days + 1)]
OCT, NOV, DEC = date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)
CHANNELS = ["ghost", "kol", "qr", "unknown"]


def test_user_retention(serving: duckdb.DuckDBPyConnection) -> None:
    actual = by_key(rows(serving, "select * from marts.user_retention"), "cohort_date")
    assert sorted(actual) == CALENDAR
    expected = {
        # 001, 002: 001 back on +1 (10-31) and +30 (11-29), 002 on +7 (11-06)
        D1: (2, 1, 1, 1, 0.5, 0.5, 0.5),
        # 003: sessions on +6 and +29 are a day off +7 and +30
        D2: (1, 0, 0, 0, 0.0, 0.0, 0.0),
        # 004: +30 is 12-01, the calendar's last date: 0, not NULL
        D3: (1, 0, 0, 0, 0.0, 0.0, 0.0),
        # no new users: counts 0, rates NULL; +30 (12-02) is past the calendar
        date(2026, 11, 2): (0, 0, 0, None, None, None, None),
        # +7 is 12-01 (0), +8 would not be
        date(2026, 11, 24): (0, 0, 0, None, None, None, None),
        date(2026, 11, 25): (0, 0, None, None, None, None, None),
        # 005, 006: every day after registration is past the calendar
        DL: (2, None, None, None, None, None, None),
    }
    for day, (new, d1, d7, d30, r1, r7, r30) in expected.items():
        assert_row(
            actual[day],
            {
                "new_users": new,
                "retained_d1": d1,
                "retained_d7": d7,
                "retained_d30": d30,
                "retention_rate_d1": r1,
                "retention_rate_d7": r7,
                "retention_rate_d30": r30,
            },
            f"retention[{day}]",
        )
    assert sum(r["new_users"] for r in actual.values()) == 6  # every registered user once


def test_buyer_cohorts(serving: duckdb.DuckDBPyConnection) -> None:
    actual = by_key(
        rows(serving, "select * from marts.buyer_cohorts"), "cohort_month", "months_since_first"
    )
    # (cohort_buyers, active, retention, paid_orders, gmv, refunds, cumulative, ltv)
    expected = {
        # Oct: 001, 002, 099 (first orders O1, O2, O3)
        (OCT, 0): (3, 3, 1.0, 3, "320.00", "0.00", "320.00", "106.67"),  # 320 / 3 = 106.666…
        # Nov: 001 (O5), 002 (O7, O15); refunds in Nov of Oct's orders too: O1 30 + O3 180 +
        # O7 20; 320 + 285 − 230 = 375
        (OCT, 1): (3, 2, 2 / 3, 3, "285.00", "230.00", "375.00", "125.00"),
        # Dec: 001 (O12, O13), 099 back (O11); 375 + 2000 = 2375, / 3 = 791.666…
        (OCT, 2): (3, 2, 2 / 3, 3, "2000.00", "0.00", "2375.00", "791.67"),
        (NOV, 0): (1, 1, 1.0, 1, "99.99", "0.00", "99.99", "99.99"),  # 004
        (NOV, 1): (1, 0, 0.0, 0, "0.00", "0.00", "99.99", "99.99"),
        # 005 (O9, O10), 006 (O14)
        (DEC, 0): (2, 2, 1.0, 3, "2100.00", "0.00", "2100.00", "1050.00"),
    }
    assert sorted(actual) == sorted(expected)
    for key, (buyers, active, rate, orders, gmv, refunds, cumulative, ltv) in expected.items():
        assert_row(
            actual[key],
            {
                "cohort_buyers": buyers,
                "active_buyers": active,
                "retention_rate": rate,
                "paid_orders": orders,
                "gmv": M(gmv),
                "refunds": M(refunds),
                "cumulative_net_revenue": M(cumulative),
                "ltv": M(ltv),
            },
            f"cohorts{key}",
        )


def test_buyer_cohorts_by_channel(serving: duckdb.DuckDBPyConnection) -> None:
    actual = by_key(
        rows(serving, "select * from marts.buyer_cohorts_by_channel"),
        "cohort_month",
        "channel_code",
        "months_since_first",
    )
    # every channel for every cohort month and month since: Oct 3 + Nov 2 + Dec 1
    assert len(actual) == len(CHANNELS) * 6
    # (cohort_buyers, active, paid_orders, gmv, refunds, cumulative, ltv, spend, return)
    expected = {
        # qr: 001, 002. Spend: qr 10.01 in October
        (OCT, "qr", 0): (2, 2, 2, "140.00", "0.00", "140.00", "70.00", "10.01", 140 / 10.01),
        (OCT, "qr", 1): (2, 2, 3, "285.00", "50.00", "375.00", "187.50", "10.01", 375 / 10.01),
        (OCT, "qr", 2): (2, 1, 2, "1875.00", "0.00", "2250.00", "1125.00", "10.01", 2250 / 10.01),
        # 099 is in no users file: unknown; its refund falls in month 1
        (OCT, "unknown", 0): (1, 1, 1, "180.00", "0.00", "180.00", "180.00", "0.00", None),
        (OCT, "unknown", 1): (1, 0, 0, "0.00", "180.00", "0.00", "0.00", "0.00", None),
        (OCT, "unknown", 2): (1, 1, 1, "125.00", "0.00", "125.00", "125.00", "0.00", None),
        # kol spent 100.00 in October and bought no cohort: return 0 on the spend
        (OCT, "kol", 0): (0, 0, 0, "0.00", "0.00", "0.00", None, "100.00", 0.0),
        (OCT, "ghost", 0): (0, 0, 0, "0.00", "0.00", "0.00", None, "0.00", None),
        (NOV, "ghost", 0): (1, 1, 1, "99.99", "0.00", "99.99", "99.99", "0.00", None),
        (NOV, "kol", 1): (0, 0, 0, "0.00", "0.00", "0.00", None, "30.00", 0.0),
        (DEC, "kol", 0): (1, 1, 1, "2000.00", "0.00", "2000.00", "2000.00", "0.00", None),
        (DEC, "qr", 0): (1, 1, 2, "100.00", "0.00", "100.00", "100.00", "0.00", None),
    }
    for key, (buyers, active, orders, gmv, refunds, cum, ltv, spend, ret) in expected.items():
        assert_row(
            actual[key],
            {
                "cohort_buyers": buyers,
                "active_buyers": active,
                "paid_orders": orders,
                "gmv": M(gmv),
                "refunds": M(refunds),
                "cumulative_net_revenue": M(cum),
                "ltv": None if ltv is None else M(ltv),
                "cohort_spend": M(spend),
                "return_on_cohort_spend": ret,
            },
            f"cohorts_by_channel{key}",
        )


def test_buyer_growth_accounting(serving: duckdb.DuckDBPyConnection) -> None:
    actual = by_key(rows(serving, "select * from marts.buyer_growth_accounting"), "month")
    # (buyers, new, retained, resurrected, churned, repeat, repeat rate, quick ratio)
    expected = {
        OCT: (3, 3, 0, 0, 0, 0, 0.0, None),  # first calendar month: no churn
        # 001, 002 retained; 004 new; 099 churned; 002 bought twice (O7, O15)
        NOV: (3, 1, 2, 0, 1, 1, 1 / 3, 1.0),
        # 005, 006 new; 001 retained; 099 resurrected; 002, 004 churned; 001 and 005 twice
        DEC: (4, 2, 1, 1, 2, 2, 0.5, 1.5),
    }
    assert sorted(actual) == sorted(expected)
    for month, (buyers, new, kept, back, churned, repeat, rate, quick) in expected.items():
        assert_row(
            actual[month],
            {
                "buyers": buyers,
                "new_buyers": new,
                "retained_buyers": kept,
                "resurrected_buyers": back,
                "churned_buyers": churned,
                "repeat_buyers": repeat,
                "repeat_purchase_rate": rate,
                "quick_ratio": quick,
            },
            f"growth[{month}]",
        )


def test_activity_performance(serving: duckdb.DuckDBPyConnection) -> None:
    actual = by_key(
        rows(serving, "select * from marts.activity_performance"), "date", "activity_code"
    )
    activities = ["bargain", "coupon", "flash_sale", "group_buy", "none"]
    assert len(actual) == len(CALENDAR) * len(activities)
    # (orders, buyers, units, gmv, gross, discounts, discount rate, new, share, refunds, aov)
    expected = {
        (D1, "none"): (1, 1, 2, "90.00", "100.00", "10.00", 0.1, 1, 1.0, "0.00", "90.00"),
        (D2, "group_buy"): (1, 1, 3, "180.00", "200.00", "20.00", 0.1, 1, 1.0, "0.00", "180.00"),
        # O5 is 001's second order: no new buyer
        (D3, "coupon"): (1, 1, 2, "35.00", "40.00", "5.00", 0.125, 0, 0.0, "0.00", "35.00"),
        # O3's refund on its refund date, under its own activity
        (D3, "group_buy"): (0, 0, 0, "0.00", "0.00", "0.00", None, 0, None, "180.00", None),
        # O1's and O7's refunds (30 + 20) on 11-02, O7 is 002's second order
        (date(2026, 11, 2), "none"): (1, 1, 4, "120", "120", "0", 0.0, 0, 0.0, "50", "120.00"),
        # the tie: O10 (bargain) is 005's first paid order, O9 (group_buy) is not
        (DL, "bargain"): (1, 1, 1, "40.00", "50.00", "10.00", 0.2, 1, 1.0, "0.00", "40.00"),
        (DL, "group_buy"): (
            2,
            2,
            3,
            "185.00",
            "220.00",
            "35.00",
            35 / 220,
            0,
            0.0,
            "0.00",
            "92.50",
        ),
        # O13 (001) and O14 (006's first): 125 / 3500 discount
        (DL, "coupon"): (
            2,
            2,
            7,
            "3375.00",
            "3500.00",
            "125.00",
            125 / 3500,
            1,
            0.5,
            "0.00",
            "1687.50",
        ),
        (DL, "flash_sale"): (0, 0, 0, "0.00", "0.00", "0.00", None, 0, None, "0.00", None),
    }
    for key, (
        n,
        buyers,
        units,
        gmv,
        gross,
        disc,
        rate,
        new,
        share,
        refunds,
        aov,
    ) in expected.items():
        assert_row(
            actual[key],
            {
                "paid_orders": n,
                "buyers": buyers,
                "units": units,
                "gmv": M(gmv),
                "gross_sales": M(gross),
                "discounts": M(disc),
                "discount_rate": rate,
                "new_buyers": new,
                "new_buyer_share": share,
                "refunds": M(refunds),
                "net_revenue": M(gmv) - M(refunds),
                "average_order_value": None if aov is None else M(aov),
            },
            f"activity{key}",
        )


def test_customer_segments(serving: duckdb.DuckDBPyConnection) -> None:
    actual = by_key(rows(serving, "select * from marts.customer_segments"), "user_id")
    assert {r["as_of_date"] for r in actual.values()} == {DL}
    # (channel, orders, gmv, refunds, net, recency, r, f, m, stage)
    expected = {
        # 2000.00 paid but 30.00 refunded: 1970 misses m 4 (≥ 2000) and vip by spend
        "001": ("qr", 4, "2000.00", "30.00", "1970.00", 0, 5, 3, 3, "active"),
        # last paid 11-24: recency 7 is r 5; 3 orders is f 3; a refund moves 300 below m 2
        "002": ("qr", 3, "300.00", "20.00", "280.00", 7, 5, 3, 1, "active"),
        # one order 30 days ago: r 4 and `new`, both on their boundary
        "004": ("ghost", 1, "99.99", "0.00", "99.99", 30, 4, 1, 1, "new"),
        "005": ("qr", 2, "100.00", "0.00", "100.00", 0, 5, 2, 1, "active"),
        # one order of exactly 2000.00: vip comes before new; m 4 on its boundary
        "006": ("kol", 1, "2000.00", "0.00", "2000.00", 0, 5, 1, 4, "vip"),
        "099": ("unknown", 2, "305.00", "180.00", "125.00", 0, 5, 2, 1, "active"),
    }
    assert sorted(actual) == sorted(expected)  # every buyer, 003 (no paid order) not
    for user, (channel, n, gmv, refunds, net, recency, r, f, m, stage) in expected.items():
        assert_row(
            actual[user],
            {
                "channel_code": channel,
                "paid_orders": n,
                "gmv": M(gmv),
                "refunds": M(refunds),
                "net_spend": M(net),
                "recency_days": recency,
                "r_score": r,
                "f_score": f,
                "m_score": m,
                "lifecycle_stage": stage,
            },
            f"segments[{user}]",
        )
    assert actual["005"]["first_paid_date"] == DL
    assert actual["001"]["first_paid_date"] == D1
    assert actual["001"]["average_order_value"] == M("500.00")


def test_distributor_referrals(serving: duckdb.DuckDBPyConnection) -> None:
    actual = by_key(
        rows(serving, "select * from marts.distributor_referrals"), "month", "distributor_id"
    )
    expected = {
        # 002 registered 10-30, referred by A1 (gold on the month's last day); O2
        (OCT, "A1"): ("Alpha", "gold", 1, 1, 1, "50.00"),
        # no new referral, 002 buys again: O7 + O15, not its first
        (NOV, "A1"): ("Alpha", "gold", 0, 1, 0, "250.00"),
        # Z9 is in no roster snapshot: name and tier NULL, its figures still count
        (DEC, "Z9"): (None, None, 1, 1, 1, "100.00"),
    }
    assert sorted(actual) == sorted(expected)  # only distributors with a non-zero figure
    for key, (name, tier, users, buyers, first, gmv) in expected.items():
        assert_row(
            actual[key],
            {
                "distributor_name": name,
                "tier": tier,
                "referred_users": users,
                "referred_buyers": buyers,
                "first_time_buyers": first,
                "referred_gmv": M(gmv),
            },
            f"referrals{key}",
        )
