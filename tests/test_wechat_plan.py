"""What a WeChat fetch calls and lands (the plan), and its errors in words: pure functions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from connectors.wechat.plan import plan_fetch, spans

pytestmark = pytest.mark.unit


def test_spans_split_contiguous_days_into_at_most_seven() -> None:
    days = [date(2026, 11, 1) + timedelta(days=n) for n in range(16)]
    assert spans(days, 7) == [
        (date(2026, 11, 1), date(2026, 11, 7)),
        (date(2026, 11, 8), date(2026, 11, 14)),
        (date(2026, 11, 15), date(2026, 11, 16)),
    ]
    assert spans([date(2026, 11, 1), date(2026, 11, 3)], 7) == [
        (date(2026, 11, 1), date(2026, 11, 1)),
        (date(2026, 11, 3), date(2026, 11, 3)),
    ]


def test_the_plan_of_a_day_and_of_a_range() -> None:
    day = date(2026, 11, 30)
    one = plan_fetch(day, day)
    assert one.user_days[0] == date(2026, 11, 27)  # the 3 days before, fetched again
    assert one.user_spans == [(date(2026, 11, 27), day)]
    assert one.detail_days == [day]
    assert one.detail_publish_dates[0] == date(2026, 11, 1) and len(one.detail_publish_dates) == 30
    assert one.total_publish_dates[0] == date(2026, 11, 24) and len(one.total_publish_dates) == 7
    assert one.calls == 2 + 30 + 7
    # a month as one range: each call once, user spans of 7 days
    month = plan_fetch(date(2026, 11, 1), day)
    assert len(month.user_spans) == 5 and month.user_spans[0][0] == date(2026, 10, 29)
    assert len(month.detail_publish_dates) == 59  # 10-03 .. 11-30
    assert month.calls == 2 * 5 + 59 + 36
    # WeChat has article_detail data from 2025-11-01 on; a retired getarticletotal is not called
    early = plan_fetch(date(2025, 11, 2), date(2025, 11, 2), total_retired=True)
    assert early.detail_publish_dates == [date(2025, 11, 1), date(2025, 11, 2)]
    assert early.total_publish_dates == []
    assert plan_fetch(date(2025, 10, 1), date(2025, 10, 1)).detail_days == []
    # an earlier day whose file said is_delay is fetched again
    again = plan_fetch(day, day, delayed_days=[date(2026, 11, 28)])
    assert again.detail_days == [date(2026, 11, 28), day]
    assert again.refetched_delayed_days == [date(2026, 11, 28)]


def test_errors_name_the_endpoint_and_the_dates() -> None:
    from connectors.wechat.api import error_for

    day = date(2026, 11, 20)
    unauthorised = error_for(
        "getusersummary", day, day, {"errcode": 48001, "errmsg": "api unauthorized"}
    )
    assert (
        "getusersummary is not authorised for this account (errcode 48001) for 2026-11-20"
        in str(unauthorised)
    )
    dates = error_for(
        "getarticletotaldetail",
        day,
        day + timedelta(days=1),
        {"errcode": 61501, "errmsg": "date range error"},
    )
    assert str(dates) == (
        "getarticletotaldetail refused the dates for 2026-11-20 .. 2026-11-21 "
        "(errcode 61501: date range error)"
    )
    assert not unauthorised.stops_fetch
    quota = error_for("getusercumulate", day, day, {"errcode": 45009, "errmsg": "quota"})
    assert quota.stops_fetch
