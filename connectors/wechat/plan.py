"""What a fetch of business days [start, end] calls and which files it lands: pure functions.

The fetch of business day D is the one the morning of D + 1 makes (spec/operations.md):
- `user_summary/<d>.json`, `user_cumulate/<d>.json` for d in D - 3 .. D (the 3 days before are
  fetched again: WeChat revises them), from calls of at most 7 days;
- `article_detail/<D>.json`: the articles published D - 29 .. D (one call per publish date), their
  details up to D, and `is_delay` when any of those calls said so; also for every earlier day
  whose file said `is_delay`, fetched again until WeChat's data is final;
- `article_total/<D + 1>.json` (named by its fetch date): publish dates D - 6 .. D, while
  getarticletotal answers.
A range fetches all its days with each call made once: adjacent days share their calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from ingestion.schemas import ARTICLE_DETAIL

USER_SPAN_DAYS = 7  # getusersummary, getusercumulate: at most 7 days a call
USER_REFETCH_DAYS = 3  # the days before D whose user data is fetched again
DETAIL_WINDOW_DAYS = 30  # article_detail/<D>: publish dates D - 29 .. D
TOTAL_WINDOW_DAYS = 7  # article_total/<D + 1>: publish dates D - 6 .. D
ONE_DAY = timedelta(days=1)


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def spans(days: Iterable[date], max_days: int) -> list[tuple[date, date]]:
    """Contiguous runs of `days`, cut into spans of at most `max_days` (inclusive ends)."""
    result: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if result and day - result[-1][1] == ONE_DAY and (day - result[-1][0]).days < max_days:
            result[-1] = (result[-1][0], day)
        else:
            result.append((day, day))
    return result


@dataclass(frozen=True)
class FetchPlan:
    start: date
    end: date
    user_days: list[date]
    user_spans: list[tuple[date, date]]
    detail_days: list[date]  # files article_detail/<D>.json
    detail_publish_dates: list[date]  # one getarticletotaldetail call each
    total_days: list[date]  # business days D of files article_total/<D + 1>.json
    total_publish_dates: list[date]  # one getarticletotal call each
    refetched_delayed_days: list[date]  # earlier days whose file said is_delay

    @property
    def calls(self) -> int:
        return (
            2 * len(self.user_spans)
            + len(self.detail_publish_dates)
            + len(self.total_publish_dates)
        )


def detail_publish_dates_of(day: date, detail_from: date | None) -> list[date]:
    """The publish dates article_detail/<day>.json holds (none before WeChat has the data)."""
    first = day - timedelta(days=DETAIL_WINDOW_DAYS - 1)
    if detail_from is not None:
        first = max(first, detail_from)
    return days_between(first, day) if first <= day else []


def total_publish_dates_of(day: date) -> list[date]:
    return days_between(day - timedelta(days=TOTAL_WINDOW_DAYS - 1), day)


def plan_fetch(
    start: date,
    end: date,
    delayed_days: Iterable[date] = (),
    total_retired: bool = False,
    detail_from: date | None = ARTICLE_DETAIL.data_from,
) -> FetchPlan:
    """The calls and files of a fetch of [start, end]; `delayed_days` are earlier days whose
    article_detail file said is_delay."""
    if start > end:
        raise ValueError(f"the range {start} .. {end} is empty")
    window = days_between(start, end)
    user_days = days_between(start - timedelta(days=USER_REFETCH_DAYS), end)
    refetched = sorted({day for day in delayed_days if day < start})
    detail_days = [
        day for day in sorted({*refetched, *window}) if detail_publish_dates_of(day, detail_from)
    ]
    detail_dates = sorted(
        {p for day in detail_days for p in detail_publish_dates_of(day, detail_from)}
    )
    total_days = [] if total_retired else window
    total_dates = sorted({p for day in total_days for p in total_publish_dates_of(day)})
    return FetchPlan(
        start=start,
        end=end,
        user_days=user_days,
        user_spans=spans(user_days, USER_SPAN_DAYS),
        detail_days=detail_days,
        detail_publish_dates=detail_dates,
        total_days=total_days,
        total_publish_dates=total_dates,
        refetched_delayed_days=[day for day in refetched if day in detail_days],
    )
