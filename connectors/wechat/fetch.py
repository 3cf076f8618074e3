"""Run a fetch: the plan's calls, the landed files, the fetch log and the report.

Files are written atomically (a temporary file in the same folder, then `os.replace`) and left
untouched when their new content is identical, so the landing sensor sees no change. A file is
written only when every call it needs succeeded: an error body is never landed, and a file that
lacks some of its publish dates would replace a complete one.
"""

from __future__ import annotations

import json
import os
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import httpx

from connectors.wechat.api import (
    ApiOfflineError,
    CallRecord,
    RetryPolicy,
    WeChatClient,
    WeChatError,
)
from connectors.wechat.config import Credentials
from connectors.wechat.plan import (
    ONE_DAY,
    FetchPlan,
    days_between,
    detail_publish_dates_of,
    plan_fetch,
    total_publish_dates_of,
)
from connectors.wechat.token_cache import TokenCache
from ingestion.schemas import (
    ARTICLE_DETAIL,
    ARTICLE_TOTAL,
    USER_CUMULATE,
    USER_SUMMARY,
    SourceSchema,
)

TOKEN_CACHE_NAME = "wechat_token.json"
STATE_NAME = "wechat_state.json"
FETCH_LOG_NAME = "wechat_fetch.jsonl"
Outcome = Literal["new", "changed", "unchanged"]
USER_SOURCES: tuple[SourceSchema, ...] = (USER_SUMMARY, USER_CUMULATE)


class FetchLog:
    """One JSON line per call, appended to `wechat_fetch.jsonl` in the logs folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.calls = 0

    def __call__(self, record: CallRecord) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = {"at": datetime.now(UTC).isoformat(timespec="seconds"), **asdict(record)}
        with open(self.path, "a", encoding="utf-8") as log:
            log.write(json.dumps(line) + "\n")
        if record.endpoint != "stable_token":
            self.calls += 1


class FetchState:
    """What the fetcher remembers beside the token cache: the APIs WeChat retired."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def retired(self) -> dict[str, str]:
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        retired = state.get("retired_apis", {}) if isinstance(state, dict) else {}
        return {str(api): str(day) for api, day in retired.items()}

    def retire(self, api: str, on: date) -> None:
        retired = self.retired() | {api: on.isoformat()}
        write_atomically(self.path, json.dumps({"retired_apis": retired}, indent=1).encode())


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def land_file(landing_dir: Path, relative: str, body: dict[str, Any]) -> Outcome:
    """Write a WeChat body as a landing file, unless the file already holds the same bytes."""
    path = landing_dir / relative
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    if path.exists():
        if path.read_bytes() == data:
            return "unchanged"
        write_atomically(path, data)
        return "changed"
    write_atomically(path, data)
    return "new"


def delayed_detail_days(landing_dir: Path) -> list[date]:
    """Days whose article_detail file said is_delay: WeChat's data was not final yet."""
    days = []
    for path in sorted(landing_dir.glob(ARTICLE_DETAIL.path_glob)):
        try:
            day = date.fromisoformat(path.stem)
            body = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            continue
        if isinstance(body, dict) and body.get("is_delay") is True:
            days.append(day)
    return days


@dataclass
class FileCounts:
    new: int = 0
    changed: int = 0
    unchanged: int = 0

    def add(self, outcome: Outcome) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def describe(self) -> str:
        total = self.new + self.changed + self.unchanged
        return (
            f"{total} file{'s' if total != 1 else ''} ({self.new} new, {self.changed} changed, "
            f"{self.unchanged} unchanged)"
        )


@dataclass
class FetchReport:
    """What a fetch did, for `siyu fetch wechat`, the fetch assets and the fetch log."""

    start: date
    end: date
    log_path: str
    files: dict[str, FileCounts] = field(default_factory=lambda: defaultdict(FileCounts))
    calls: int = 0
    delayed_days: list[date] = field(default_factory=list)  # files landed with is_delay
    refetched_days: list[date] = field(default_factory=list)  # earlier is_delay days
    retired: list[str] = field(default_factory=list)  # retired in this run (said once)
    failures: list[str] = field(default_factory=list)
    failures_by_source: dict[str, list[str]] = field(default_factory=dict)
    stopped: str | None = None

    @property
    def succeeded(self) -> bool:
        """Every planned call succeeded (a newly retired API aside)."""
        return not self.failures and self.stopped is None

    def lines(self) -> list[str]:
        window = f"{self.start}" if self.start == self.end else f"{self.start} .. {self.end}"
        lines = [f"Fetched WeChat data for {window} ({self.calls} calls)"]
        for schema in (USER_SUMMARY, USER_CUMULATE, ARTICLE_DETAIL, ARTICLE_TOTAL):
            if schema.name in self.files:
                folder = schema.path_glob.rsplit("/", 1)[0]
                lines.append(f"  {folder}: {self.files[schema.name].describe()}")
        if self.refetched_days:
            days = ", ".join(day.isoformat() for day in self.refetched_days)
            lines.append(f"  fetched again (WeChat's data was not final): {days}")
        if self.delayed_days:
            days = ", ".join(day.isoformat() for day in self.delayed_days)
            lines.append(
                f"  WeChat's data for {days} is not final yet (is_delay): fetched again next run"
            )
        lines += [f"  {api} is offline (errcode 47009): no longer called" for api in self.retired]
        if self.stopped:
            lines.append(f"  stopped: {self.stopped}")
        lines += [f"  failed: {failure}" for failure in self.failures]
        lines.append(f"Fetch log: {self.log_path}")
        return lines


class _Stop(Exception):
    """No further call can succeed in this run."""


class _Fetch:
    def __init__(self, client: WeChatClient, landing_dir: Path, report: FetchReport) -> None:
        self.client = client
        self.landing_dir = landing_dir
        self.report = report

    def call(self, schema: SourceSchema, begin: date, end: date) -> dict[str, Any] | None:
        """The body, or None after a failure (recorded); raises _Stop when nothing can follow."""
        assert schema.wechat_api is not None
        try:
            return self.client.datacube(schema.wechat_api, begin, end)
        except ApiOfflineError:
            raise
        except WeChatError as error:
            if error.stops_fetch:
                self.report.stopped = str(error)
                raise _Stop from None
            self.report.failures.append(str(error))
            self.report.failures_by_source.setdefault(schema.name, []).append(str(error))
            return None

    def land(self, schema: SourceSchema, day: date, body: dict[str, Any]) -> None:
        self.report.files[schema.name].add(land_file(self.landing_dir, schema.file_for(day), body))

    def user_data(self, plan: FetchPlan) -> None:
        for schema in USER_SOURCES:
            for begin, end in plan.user_spans:
                body = self.call(schema, begin, end)
                if body is None:
                    continue
                items: dict[str, list[Any]] = defaultdict(list)
                for item in body.get("list") or []:
                    if isinstance(item, dict):
                        items[str(item.get("ref_date"))].append(item)
                for day in days_between(begin, end):
                    self.land(schema, day, {"list": items.get(day.isoformat(), [])})

    def articles(
        self,
        schema: SourceSchema,
        publish_dates: list[date],
        files: list[tuple[date, date, list[date]]],  # (business day, file day, publish dates)
        nested: str,
    ) -> None:
        """One call per publish date; a file is landed once all its publish dates are in."""
        bodies: dict[date, dict[str, Any]] = {}
        failed: set[date] = set()
        pending = sorted(files)
        for publish in publish_dates:
            body = self.call(schema, publish, publish)
            if body is None:
                failed.add(publish)
            else:
                bodies[publish] = body
            still_pending = []
            for day, file_day, dates in pending:
                if not all(p in bodies or p in failed for p in dates):
                    still_pending.append((day, file_day, dates))
                elif not failed.intersection(dates):
                    self.land(schema, file_day, article_file(bodies, dates, day, nested))
                    if schema is ARTICLE_DETAIL and any(bodies[p].get("is_delay") for p in dates):
                        self.report.delayed_days.append(day)
            pending = still_pending


def article_file(
    bodies: dict[date, dict[str, Any]], dates: list[date], last_day: date, nested: str
) -> dict[str, Any]:
    """The items of the calls for `dates`, their nested details up to `last_day` (later ones
    belong to later days' files); with `is_delay` for article_detail."""
    items = []
    for publish in dates:
        for item in bodies[publish].get("list") or []:
            if isinstance(item, dict) and isinstance(item.get(nested), list):
                item = {
                    **item,
                    nested: [
                        detail
                        for detail in item[nested]
                        if isinstance(detail, dict)
                        and str(detail.get("stat_date", "")) <= last_day.isoformat()
                    ],
                }
            items.append(item)
    body: dict[str, Any] = {"list": items}
    if nested == ARTICLE_DETAIL.nested_rows:
        body["is_delay"] = any(bool(bodies[p].get("is_delay")) for p in dates)
    return body


def fetch_wechat(
    *,
    landing_dir: Path,
    logs_dir: Path,
    secrets_dir: Path,
    api_base: str,
    credentials: Credentials,
    start: date,
    end: date,
    yesterday: date,
    retry: RetryPolicy | None = None,
    http: httpx.Client | None = None,
) -> FetchReport:
    """Fetch business days [start, end] (the fetches of the mornings after them) into the
    landing folder. Raises ValueError when the days are not over yet."""
    if end > yesterday:
        raise ValueError(
            f"{end} is not over yet in the business time zone: WeChat has data up to {yesterday}"
        )
    log = FetchLog(logs_dir / FETCH_LOG_NAME)
    state = FetchState(secrets_dir / STATE_NAME)
    report = FetchReport(start=start, end=end, log_path=str(log.path))
    retired = state.retired()
    plan = plan_fetch(
        start,
        end,
        delayed_days=delayed_detail_days(landing_dir),
        total_retired=ARTICLE_TOTAL.wechat_api in retired,
    )
    report.refetched_days = plan.refetched_delayed_days
    client = WeChatClient(
        api_base,
        credentials,
        TokenCache(secrets_dir / TOKEN_CACHE_NAME, credentials.appid),
        record=log,
        retry=retry,
        http=http,
    )
    fetch = _Fetch(client, landing_dir, report)
    try:
        fetch.user_data(plan)
        fetch.articles(
            ARTICLE_DETAIL,
            plan.detail_publish_dates,
            [
                (d, d, detail_publish_dates_of(d, ARTICLE_DETAIL.data_from))
                for d in plan.detail_days
            ],
            "detail_list",
        )
        try:
            fetch.articles(
                ARTICLE_TOTAL,
                plan.total_publish_dates,
                [(d, d + ONE_DAY, total_publish_dates_of(d)) for d in plan.total_days],
                "details",
            )
        except ApiOfflineError:
            assert ARTICLE_TOTAL.wechat_api is not None
            state.retire(ARTICLE_TOTAL.wechat_api, yesterday)
            report.retired.append(ARTICLE_TOTAL.wechat_api)
    except _Stop:
        pass
    finally:
        client.close()
        report.calls = log.calls
    return report
