"""`siyu fetch wechat` against a fake WeChat API on loopback (tests/fake_wechat.py): the calls,
the landed files and the fetch log, the token, and every scripted failure."""

from __future__ import annotations

import json
import stat
from datetime import date, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from connectors.wechat.api import RetryPolicy
from connectors.wechat.config import Credentials
from connectors.wechat.fetch import FetchReport, fetch_wechat
from tests.fake_wechat import FakeWeChat, cumulate_of, detail_of, msgid_of, publishes_on

APPID = "wxTESTAPPID0a1b2c3"
SECRET = "siyu-test-secret-9F3K-never-logged"
YESTERDAY = date(2026, 11, 30)
FAST = RetryPolicy(attempts=5, max_seconds=10, initial_wait=0.01, max_wait=0.05)

pytestmark = pytest.mark.integration


@pytest.fixture
def wechat(httpserver: HTTPServer) -> FakeWeChat:
    return FakeWeChat(httpserver, APPID, SECRET, yesterday=YESTERDAY)


def fetch(wechat: FakeWeChat, root: Path, start: date, end: date | None = None) -> FetchReport:
    return fetch_wechat(
        landing_dir=root / "landing",
        logs_dir=root / "logs",
        secrets_dir=root / "secrets",
        api_base=wechat.base_url,
        credentials=Credentials(APPID, SECRET),
        start=start,
        end=end or start,
        yesterday=YESTERDAY,
        retry=FAST,
    )


def landed(root: Path, relative: str) -> dict:
    return json.loads((root / "landing" / relative).read_text(encoding="utf-8"))


def log_lines(root: Path) -> list[dict]:
    return [
        json.loads(line) for line in (root / "logs" / "wechat_fetch.jsonl").read_text().splitlines()
    ]


def test_a_day_lands_its_files_and_logs_every_call(tmp_path: Path, wechat: FakeWeChat) -> None:
    day = YESTERDAY
    report = fetch(wechat, tmp_path, day)
    assert report.succeeded, report.lines()
    # user data of D - 3 .. D, one call of 4 days per API
    assert [call for call in wechat.calls_to("getusersummary")] == [
        {"begin_date": "2026-11-27", "end_date": "2026-11-30"}
    ]
    for offset in range(4):
        summary = landed(tmp_path, f"wechat_oa/user_summary/{day - timedelta(days=offset)}.json")
        assert {item["ref_date"] for item in summary["list"]} <= {str(day - timedelta(days=offset))}
    cumulate = landed(tmp_path, "wechat_oa/user_cumulate/2026-11-30.json")
    assert cumulate == {
        "list": [{"ref_date": "2026-11-30", "user_source": 0, "cumulate_user": cumulate_of(day)}]
    }
    # the articles published 11-01 .. 11-30, one call each, their details up to 11-30
    assert len(wechat.calls_to("getarticletotaldetail")) == 30
    detail = landed(tmp_path, "wechat_oa/article_detail/2026-11-30.json")
    publish_dates = [date(2026, 11, 1) + timedelta(days=n) for n in range(30)]
    assert [item["msgid"] for item in detail["list"]] == [
        msgid_of(p) for p in publish_dates if publishes_on(p)
    ]
    assert detail["is_delay"] is False
    first_publish = next(p for p in publish_dates if publishes_on(p))
    assert detail["list"][0]["detail_list"][-1] == detail_of(first_publish, day)
    # getarticletotal while it answers: the file of D is named by its fetch date, D + 1
    total = landed(tmp_path, "wechat_oa/article_total/2026-12-01.json")
    assert {item["ref_date"] for item in total["list"]} <= {
        str(date(2026, 11, 24) + timedelta(days=n)) for n in range(7)
    }
    # the fetch log: one line per call, never the token or the secret
    lines = log_lines(tmp_path)
    assert len(lines) == 1 + 2 + 30 + 7  # the stable token, then the data calls
    assert set(lines[1]) == {
        "at",
        "endpoint",
        "begin_date",
        "end_date",
        "http_status",
        "errcode",
        "is_delay",
        "attempts",
        "duration_ms",
    }
    text = (tmp_path / "logs" / "wechat_fetch.jsonl").read_text()
    assert "ACCESS-TOKEN" not in text and SECRET not in text and APPID not in text
    # the token cache: owner-only, and no appid or secret in it
    cache = tmp_path / "secrets" / "wechat_token.json"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert SECRET not in cache.read_text() and APPID not in cache.read_text()
    assert [body["force_refresh"] for body in wechat.token_requests()] == [False]
    assert not [path for path, _ in wechat.requests if path == "/cgi-bin/token"]


def test_a_second_fetch_reuses_the_token_and_leaves_identical_files(
    tmp_path: Path, wechat: FakeWeChat
) -> None:
    fetch(wechat, tmp_path, YESTERDAY)
    files = sorted((tmp_path / "landing").rglob("*.json"))
    before = {path: path.stat().st_mtime_ns for path in files}
    again = fetch(wechat, tmp_path, YESTERDAY)
    assert again.succeeded
    assert {path: path.stat().st_mtime_ns for path in files} == before  # untouched
    assert "4 files (0 new, 0 changed, 4 unchanged)" in "\n".join(again.lines())
    assert len(wechat.token_requests()) == 1  # the cached token served both runs
    assert not list((tmp_path / "landing").rglob("*.tmp"))


def test_a_range_fetches_each_call_once(tmp_path: Path, wechat: FakeWeChat) -> None:
    report = fetch(wechat, tmp_path, date(2026, 11, 21), YESTERDAY)
    assert report.succeeded
    assert wechat.calls_to("getusersummary") == [
        {"begin_date": "2026-11-18", "end_date": "2026-11-24"},
        {"begin_date": "2026-11-25", "end_date": "2026-11-30"},
    ]
    detail_dates = [call["begin_date"] for call in wechat.calls_to("getarticletotaldetail")]
    assert len(detail_dates) == len(set(detail_dates)) == 39  # 10-23 .. 11-30
    assert len(sorted((tmp_path / "landing" / "wechat_oa" / "article_detail").glob("*.json"))) == 10
    # a backfilled day holds only the details up to that day
    past = landed(tmp_path, "wechat_oa/article_detail/2026-11-21.json")
    assert max(d["stat_date"] for item in past["list"] for d in item["detail_list"]) == "2026-11-21"


def test_a_token_expiring_mid_run_is_renewed(tmp_path: Path, wechat: FakeWeChat) -> None:
    wechat.expire_token_after_calls = 5
    report = fetch(wechat, tmp_path, YESTERDAY)
    assert report.succeeded, report.lines()
    assert [body["force_refresh"] for body in wechat.token_requests()] == [False, False]
    assert any(line["errcode"] == 42001 for line in log_lines(tmp_path))


def test_the_same_rejected_token_leads_to_one_forced_refresh(
    tmp_path: Path, wechat: FakeWeChat
) -> None:
    wechat.expire_token_after_calls = 3
    wechat.keep_rejected_token = True  # WeChat hands out the same token again
    report = fetch(wechat, tmp_path, YESTERDAY)
    assert report.succeeded, report.lines()
    assert [body["force_refresh"] for body in wechat.token_requests()] == [False, False, True]


def test_busy_and_server_errors_are_retried(tmp_path: Path, wechat: FakeWeChat) -> None:
    wechat.transient = {"getusersummary": ["busy", "500"], "getarticletotaldetail": ["500"]}
    report = fetch(wechat, tmp_path, YESTERDAY)
    assert report.succeeded, report.lines()
    attempts = {
        (line["endpoint"], line["begin_date"]): line["attempts"] for line in log_lines(tmp_path)
    }
    assert attempts[("getusersummary", "2026-11-27")] == 3
    assert attempts[("getarticletotaldetail", "2026-11-01")] == 2


def test_a_spent_quota_stops_the_fetch_and_keeps_what_landed(
    tmp_path: Path, wechat: FakeWeChat
) -> None:
    wechat.quota_after_calls = 12  # the user data (2 calls) and 10 article detail calls
    report = fetch(wechat, tmp_path, YESTERDAY)
    assert not report.succeeded
    assert report.stopped is not None and "quota" in report.stopped and "45009" in report.stopped
    assert (tmp_path / "landing" / "wechat_oa" / "user_summary" / "2026-11-30.json").exists()
    # the article file needs 30 calls: not landed incomplete, and no error body landed
    assert not (tmp_path / "landing" / "wechat_oa" / "article_detail").exists()
    assert len(wechat.calls_to("getarticletotaldetail")) == 11  # the 11th answered 45009


def test_an_ip_not_on_the_allowlist_says_which_ip_and_where_to_add_it(
    tmp_path: Path, wechat: FakeWeChat
) -> None:
    wechat.blocked_ip = "203.0.113.7"
    report = fetch(wechat, tmp_path, YESTERDAY)
    assert not report.succeeded and report.stopped is not None
    assert "203.0.113.7" in report.stopped and "40164" in report.stopped
    assert "Settings and development → Basic configuration → IP allowlist" in report.stopped
    assert not (tmp_path / "landing").exists()


def test_a_retired_getarticletotal_is_said_once_and_not_called_again(
    tmp_path: Path, wechat: FakeWeChat
) -> None:
    wechat.offline = {"getarticletotal"}
    first = fetch(wechat, tmp_path, YESTERDAY)
    assert first.succeeded  # a newly retired API is not a failure
    said = [line for line in first.lines() if "getarticletotal is offline (errcode 47009)" in line]
    assert len(said) == 1
    assert len(wechat.calls_to("getarticletotal")) == 1
    assert json.loads((tmp_path / "secrets" / "wechat_state.json").read_text()) == {
        "retired_apis": {"getarticletotal": "2026-11-30"}
    }
    second = fetch(wechat, tmp_path, YESTERDAY)
    assert second.succeeded and not [line for line in second.lines() if "47009" in line]
    assert len(wechat.calls_to("getarticletotal")) == 1  # not called again
    assert (tmp_path / "landing" / "wechat_oa" / "article_detail" / "2026-11-30.json").exists()


def test_a_delayed_day_is_fetched_again_until_final(tmp_path: Path, wechat: FakeWeChat) -> None:
    day = YESTERDAY - timedelta(days=1)  # 11-29: its fetch says is_delay
    publish = next(d for d in (day, day - timedelta(days=1)) if publishes_on(d))
    wechat.delayed = {publish: 1}
    first = fetch(wechat, tmp_path, day)
    delayed = landed(tmp_path, f"wechat_oa/article_detail/{day}.json")
    assert delayed["is_delay"] is True and first.delayed_days == [day]
    second = fetch(wechat, tmp_path, YESTERDAY)  # the next morning
    assert second.refetched_days == [day]
    final = landed(tmp_path, f"wechat_oa/article_detail/{day}.json")
    assert final["is_delay"] is False
    article = next(item for item in final["list"] if item["ref_date"] == str(publish))
    assert article["detail_list"][-1] == detail_of(publish, day)  # the final figures


def test_dates_wechat_has_no_data_for_are_refused_before_any_call(
    tmp_path: Path, wechat: FakeWeChat
) -> None:
    with pytest.raises(ValueError, match="is not over yet"):
        fetch(wechat, tmp_path, YESTERDAY + timedelta(days=1))
    assert wechat.requests == []


def test_the_fake_refuses_what_wechat_refuses(wechat: FakeWeChat) -> None:
    import httpx

    with httpx.Client(base_url=wechat.base_url) as http:
        token = http.post(
            "/cgi-bin/stable_token",
            json={
                "grant_type": "client_credential",
                "appid": APPID,
                "secret": SECRET,
                "force_refresh": False,
            },
        ).json()["access_token"]

        def errcode(api: str, body: object, access_token: str = token) -> int:
            answer = http.post(f"/datacube/{api}", params={"access_token": access_token}, json=body)
            return int(answer.json().get("errcode", 0))

        assert (
            errcode("getusersummary", {"begin_date": "2026-11-20", "end_date": "2026-11-26"}) == 0
        )
        assert (
            errcode("getusersummary", {"begin_date": "2026-11-20", "end_date": "2026-11-27"})
            == 61501
        )
        assert (
            errcode("getarticletotaldetail", {"begin_date": "2026-11-20", "end_date": "2026-11-21"})
            == 61501
        )
        assert (
            errcode("getusercumulate", {"begin_date": "2026-12-01", "end_date": "2026-12-01"})
            == 61501
        )
        assert (
            errcode("getusercumulate", {"begin_date": "2026/11/20", "end_date": "2026-11-20"})
            == 61500
        )
        assert errcode("getusercumulate", {"begin_date": "2026-11-20"}) == 47001
        assert (
            errcode("getusercumulate", {"begin_date": "2026-11-20", "end_date": "2026-11-20"}, "x")
            == 40001
        )
