"""A fake WeChat Official Account API on loopback, for the connector's tests.

It follows WeChat's documented behaviour where the connector relies on it: `POST
/cgi-bin/stable_token` checks the appid and secret and hands out a token that stays the same
until it expires or a refresh is forced; `POST /datacube/<api>?access_token=...` checks the
token (40001 invalid, 42001 expired), the JSON body, the date format (61500), the span of the
API (7 days for the user APIs, 1 for the article APIs) and `end_date` <= yesterday (61501). Every
answer is HTTP 200 with an errcode, as WeChat's are. Failures are scripted per test: a token
that expires mid-run, busy (-1) and HTTP 500 once, a daily quota (45009) after N calls, an IP not
on the allowlist (40164), getarticletotal offline (47009), is_delay true then false.

Its data is a deterministic function of the date, so tests compute the expected marts from
the same functions (`followers_of`, `articles_of`, ...).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

USER_APIS = {"getusersummary": 7, "getusercumulate": 7}
ARTICLE_APIS = {"getarticletotaldetail": 1, "getarticletotal": 1}
SOURCES = (0, 30, 57)  # user_source codes the fake account gains followers from


def new_followers(day: date, source: int) -> tuple[int, int]:
    """(new_user, cancel_user) of a user_source on a day; (0, 0) on quiet days."""
    if (day.toordinal() + source) % 5 == 0:
        return 0, 0
    return 3 + (day.toordinal() + source) % 11, (day.toordinal() * 7 + source) % 4


def cumulate_of(day: date) -> int:
    return 20_000 + (day - date(2026, 1, 1)).days * 9


def publishes_on(day: date) -> bool:
    return day.toordinal() % 3 != 1


def msgid_of(day: date) -> str:
    return f"{day.strftime('%Y%m%d')}99_1"


def detail_of(publish: date, stat: date) -> dict[str, Any]:
    """The cumulative figures of the article published on `publish`, at the end of `stat`."""
    k = (stat - publish).days
    reads = 100 + 40 * k + publish.day
    return {
        "stat_date": stat.isoformat(),
        "read_user": reads,
        "share_user": 4 + 3 * k,
        "zaikan_user": k,
        "like_user": 2 * k + 1,
        "comment_count": k // 2,
        "collection_user": k + 2,
        "read_subscribe_user": k // 3,
        "read_delivery_rate": round(0.05 + 0.004 * k, 4),
        "read_finish_rate": 0.6,
        "read_user_source": [{"scene_desc": "全部", "user_count": reads}],
    }


def total_detail_of(publish: date, stat: date) -> dict[str, Any]:
    k = (stat - publish).days
    return {
        "stat_date": stat.isoformat(),
        "target_user": 5000,
        "int_page_read_user": 300 + 25 * k,
        "int_page_read_count": 350 + 30 * k,
        "share_user": 10 + k,
        "share_count": 12 + k,
        "add_to_fav_user": 3 + k,
        "add_to_fav_count": 3 + k,
    }


@dataclass
class FakeWeChat:
    server: HTTPServer
    appid: str
    secret: str
    yesterday: date
    # scripts
    expire_token_after_calls: int | None = None
    keep_rejected_token: bool = False  # a non-forced stable_token returns the rejected token
    transient: dict[str, list[str]] = field(default_factory=dict)  # api -> ["busy", "500"]
    quota_after_calls: int | None = None
    blocked_ip: str | None = None
    offline: set[str] = field(default_factory=set)
    delayed: dict[date, int] = field(default_factory=dict)  # publish date -> delayed answers
    # what happened
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    datacube_calls: int = 0
    token_number: int = 0
    token: str | None = None
    expired: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.server.expect_request("/cgi-bin/stable_token", method="POST").respond_with_handler(
            self.stable_token
        )
        self.server.expect_request(
            re.compile(r"^/datacube/\w+$"), method="POST"
        ).respond_with_handler(self.datacube)
        self.server.expect_request(re.compile(".*")).respond_with_handler(self.elsewhere)

    @property
    def base_url(self) -> str:
        return self.server.url_for("").rstrip("/")

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def answer(body: dict[str, Any], status: int = 200) -> Response:
        return Response(json.dumps(body, ensure_ascii=False), status, mimetype="application/json")

    def calls_to(self, api: str) -> list[dict[str, Any]]:
        return [body for path, body in self.requests if path == f"/datacube/{api}"]

    def token_requests(self) -> list[dict[str, Any]]:
        return [body for path, body in self.requests if path == "/cgi-bin/stable_token"]

    def _issue(self) -> str:
        self.token_number += 1
        self.token = f"ACCESS-TOKEN-{self.token_number:03d}"
        return self.token

    # -- endpoints ---------------------------------------------------------------------------

    def elsewhere(self, request: Request) -> Response:
        # e.g. the legacy /cgi-bin/token, which must never be called
        self.requests.append((request.path, {}))
        return self.answer({"errcode": 40066, "errmsg": "invalid url"}, 404)

    def stable_token(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        self.requests.append((request.path, {k: v for k, v in body.items() if k != "secret"}))
        if self.blocked_ip:
            return self.answer(
                {
                    "errcode": 40164,
                    "errmsg": f"invalid ip {self.blocked_ip} ipv6 ::ffff:"
                    f"{self.blocked_ip}, not in whitelist rid: 6f3a",
                }
            )
        if body.get("grant_type") != "client_credential" or body.get("appid") != self.appid:
            return self.answer({"errcode": 40013, "errmsg": "invalid appid"})
        if body.get("secret") != self.secret:
            return self.answer({"errcode": 40125, "errmsg": "invalid appsecret"})
        force = body.get("force_refresh")
        if not isinstance(force, bool):
            return self.answer({"errcode": 47001, "errmsg": "data format error"})
        if force:
            self.keep_rejected_token = False
            token = self._issue()
        elif self.token is None or (self.token in self.expired and not self.keep_rejected_token):
            token = self._issue()
        else:
            token = self.token
        return self.answer({"access_token": token, "expires_in": 7200})

    def datacube(self, request: Request) -> Response:
        api = request.path.rsplit("/", 1)[1]
        body = request.get_json(silent=True)
        self.requests.append((request.path, body if isinstance(body, dict) else {}))
        if self.blocked_ip:
            return self.answer(
                {"errcode": 40164, "errmsg": f"invalid ip {self.blocked_ip}, not in whitelist"}
            )
        token = request.args.get("access_token")
        if token in self.expired:
            return self.answer({"errcode": 42001, "errmsg": "access_token expired"})
        if token is None or token != self.token:
            return self.answer({"errcode": 40001, "errmsg": "invalid credential"})
        failures = self.transient.get(api)
        if failures:
            failure = failures.pop(0)
            if failure == "500":
                return Response("internal error", 500)
            return self.answer({"errcode": -1, "errmsg": "system error"})
        if self.quota_after_calls is not None and self.datacube_calls >= self.quota_after_calls:
            return self.answer({"errcode": 45009, "errmsg": "reach max api daily quota limit"})
        if api in self.offline:
            return self.answer({"errcode": 47009, "errmsg": "api is offline"})
        if api not in USER_APIS and api not in ARTICLE_APIS:
            return self.answer({"errcode": 48001, "errmsg": "api unauthorized"})
        if not isinstance(body, dict) or set(body) != {"begin_date", "end_date"}:
            return self.answer({"errcode": 47001, "errmsg": "data format error"})
        try:
            begin = date.fromisoformat(str(body["begin_date"]))
            end = date.fromisoformat(str(body["end_date"]))
            if len(str(body["begin_date"])) != 10 or len(str(body["end_date"])) != 10:
                raise ValueError
        except ValueError:
            return self.answer({"errcode": 61500, "errmsg": "date format error"})
        span = (USER_APIS | ARTICLE_APIS)[api]
        if begin > end or (end - begin).days >= span or end > self.yesterday:
            return self.answer({"errcode": 61501, "errmsg": "date range error"})
        self.datacube_calls += 1
        if self.expire_token_after_calls is not None and (
            self.datacube_calls >= self.expire_token_after_calls
        ):
            self.expire_token_after_calls = None
            self.expired.add(token)  # it expires during this call: answered, then rejected
        return self.answer(self.data(api, begin, end))

    # -- the account's data ------------------------------------------------------------------

    def data(self, api: str, begin: date, end: date) -> dict[str, Any]:
        days = [begin + timedelta(days=n) for n in range((end - begin).days + 1)]
        if api == "getusersummary":
            return {
                "list": [
                    {
                        "ref_date": day.isoformat(),
                        "user_source": source,
                        "new_user": new_followers(day, source)[0],
                        "cancel_user": new_followers(day, source)[1],
                    }
                    for day in days
                    for source in SOURCES
                    if new_followers(day, source) != (0, 0)
                ]
            }
        if api == "getusercumulate":
            return {
                "list": [
                    {
                        "ref_date": day.isoformat(),
                        "user_source": 0,
                        "cumulate_user": cumulate_of(day),
                    }
                    for day in days
                ]
            }
        publish = begin
        if not publishes_on(publish):
            return (
                {"list": [], "is_delay": False} if api == "getarticletotaldetail" else {"list": []}
            )
        if api == "getarticletotaldetail":
            last = min(publish + timedelta(days=29), self.yesterday)
            delayed = self.delayed.get(publish, 0) > 0
            if delayed:
                self.delayed[publish] -= 1
            details = [
                detail_of(publish, publish + timedelta(days=k))
                for k in range((last - publish).days + 1)
            ]
            if delayed:  # the last day's figures are provisional
                details[-1] = {**details[-1], "read_user": details[-1]["read_user"] - 7}
            return {
                "list": [
                    {
                        "ref_date": publish.isoformat(),
                        "msgid": msgid_of(publish),
                        "publish_type": 0,
                        "title": f"推文 {publish.isoformat()}",
                        "content_url": "https://mp.weixin.qq.com/s?__biz=x",
                        "detail_list": details,
                        "read_jump_position": [],
                    }
                ],
                "is_delay": delayed,
            }
        last = min(publish + timedelta(days=6), self.yesterday)
        return {
            "list": [
                {
                    "ref_date": publish.isoformat(),
                    "msgid": msgid_of(publish),
                    "title": f"推文 {publish.isoformat()}",
                    "details": [
                        total_detail_of(publish, publish + timedelta(days=k))
                        for k in range((last - publish).days + 1)
                    ],
                }
            ]
        }
