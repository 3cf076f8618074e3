"""The Official Account data APIs as Siyu calls them: a stable access token, one POST per call,
retries, and WeChat's error codes turned into errors a person can act on (spec/operations.md,
"Fetching from WeChat").

WeChat answers HTTP 200 with an `errcode` in the body. Connection errors, HTTP 5xx and errcode -1
(busy) are retried with exponential backoff and jitter; the token errors ask for a stable token
again (and, if the same token comes back and is rejected again, once with force_refresh). The
appid, the secret and the access token never reach a message, a log line or a file other than
the token cache.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import tenacity

from connectors.wechat.config import Credentials
from connectors.wechat.token_cache import TokenCache

STABLE_TOKEN_PATH = "/cgi-bin/stable_token"
TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # invalid credential / token, token expired
BUSY = -1
QUOTA_SPENT = 45009
IP_NOT_ALLOWED = 40164
API_UNAUTHORISED = 48001
DATE_ERRORS = frozenset({61500, 61501})  # date format / date range
API_OFFLINE = 47009
MAX_TOKEN_RENEWALS = 3
IP_ALLOWLIST_PLACE = (
    "Official Account platform → Settings and development → Basic configuration → IP allowlist"
)

# httpx logs every request's URL, access token included, at INFO: never let it
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).setLevel(logging.WARNING)


@dataclass(frozen=True)
class RetryPolicy:
    """At most `attempts` tries and `max_seconds` per call, waiting exponentially with jitter."""

    attempts: int = 5
    max_seconds: float = 120.0
    initial_wait: float = 1.0
    max_wait: float = 30.0


@dataclass(frozen=True)
class CallRecord:
    """One call, as the fetch log records it (never the token or the secret)."""

    endpoint: str
    begin_date: str | None
    end_date: str | None
    http_status: int | None
    errcode: int | None
    is_delay: bool | None
    attempts: int
    duration_ms: int


class WeChatError(Exception):
    """A call that did not succeed, in words a person can act on. `stops_fetch`: no further
    call can succeed in this run (quota, allowlist, credentials, network)."""

    stops_fetch = False

    def __init__(self, message: str, errcode: int | None = None) -> None:
        super().__init__(message)
        self.errcode = errcode


class QuotaSpentError(WeChatError):
    stops_fetch = True


class IpNotAllowedError(WeChatError):
    stops_fetch = True


class CredentialsError(WeChatError):
    stops_fetch = True


class UnreachableError(WeChatError):
    stops_fetch = True


class ApiOfflineError(WeChatError):
    """The API is retired (errcode 47009): not a failure of the run."""


class _Retryable(Exception):
    """A transient answer (HTTP 5xx, errcode -1): try again."""

    def __init__(self, status: int | None, errcode: int | None, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.errcode = errcode


def _ip_from(errmsg: str) -> str:
    match = re.search(r"\b(\d{1,3}(?:\.\d{1,3}){3})\b", errmsg) or re.search(
        r"invalid ip ([0-9a-fA-F:.]+)", errmsg
    )
    return match.group(1) if match else "(not given)"


def error_for(
    endpoint: str, begin: date | None, end: date | None, body: dict[str, Any]
) -> WeChatError:
    """The error of a WeChat body with a non-zero errcode (not a token error)."""
    errcode = int(body.get("errcode", 0))
    errmsg = str(body.get("errmsg", "")).strip()
    dates = "" if begin is None else f" for {begin}" + ("" if end == begin else f" .. {end}")
    if errcode == QUOTA_SPENT:
        return QuotaSpentError(
            f"WeChat's daily quota for {endpoint} is spent (errcode 45009): the fetch stopped and "
            "keeps what landed; run it again after midnight Beijing time, when quotas reset",
            errcode,
        )
    if errcode == IP_NOT_ALLOWED:
        return IpNotAllowedError(
            f"WeChat refused this server's IP {_ip_from(errmsg)} (errcode 40164): add it to the "
            f"account's IP allowlist ({IP_ALLOWLIST_PLACE}), then fetch again",
            errcode,
        )
    if errcode == API_UNAUTHORISED:
        return WeChatError(
            f"{endpoint} is not authorised for this account (errcode 48001){dates}: the account "
            "needs the data-statistics (数据统计) permission; verified accounts have it",
            errcode,
        )
    if errcode in DATE_ERRORS:
        return WeChatError(
            f"{endpoint} refused the dates{dates} (errcode {errcode}: {errmsg or 'date error'})",
            errcode,
        )
    if errcode == API_OFFLINE:
        return ApiOfflineError(
            f"{endpoint} is offline (errcode 47009: {errmsg or 'api is offline'}): WeChat retired "
            "it; it is no longer called",
            errcode,
        )
    if errcode in (40013, 40125):  # invalid appid / invalid secret
        return CredentialsError(
            f"WeChat rejected the appid or secret (errcode {errcode}): check "
            "SIYU_WECHAT_APPID and SIYU_WECHAT_APPSECRET",
            errcode,
        )
    return WeChatError(f"{endpoint}{dates} failed: errcode {errcode} ({errmsg})", errcode)


class WeChatClient:
    """Calls of the data APIs with a cached stable token. `record` receives every call."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        token_cache: TokenCache,
        record: Callable[[CallRecord], None],
        retry: RetryPolicy | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self._credentials = credentials
        self._tokens = token_cache
        self._record = record
        self._retry = retry or RetryPolicy()
        self._http = http or httpx.Client(base_url=base_url.rstrip("/"), timeout=30.0)
        self._forced_refresh_used = False

    def close(self) -> None:
        self._http.close()

    # -- HTTP with retries ------------------------------------------------------------------

    def _post(
        self, path: str, endpoint: str, payload: dict[str, Any], token: str | None
    ) -> tuple[dict[str, Any], int]:
        """POST with retries of transient failures. Returns (body, attempts)."""
        retry = self._retry
        attempts = 0
        started = time.monotonic()
        status: int | None = None
        begin, end = payload.get("begin_date"), payload.get("end_date")

        def once() -> dict[str, Any]:
            nonlocal attempts, status
            attempts += 1
            status = None
            try:
                response = self._http.post(
                    path, params={"access_token": token} if token else None, json=payload
                )
            except httpx.TransportError as error:
                raise _Retryable(None, None, type(error).__name__) from None
            status = response.status_code
            if status >= 500:
                raise _Retryable(status, None, f"HTTP {status}")
            try:
                body = response.json()
            except ValueError:
                raise _Retryable(status, None, f"HTTP {status}, not JSON") from None
            if not isinstance(body, dict):
                raise WeChatError(f"{endpoint}: WeChat answered something that is not an object")
            if body.get("errcode") == BUSY:
                raise _Retryable(status, BUSY, "busy (errcode -1)")
            return body

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Retryable),
            stop=tenacity.stop_after_attempt(retry.attempts)
            | tenacity.stop_after_delay(retry.max_seconds),
            wait=tenacity.wait_exponential_jitter(initial=retry.initial_wait, max=retry.max_wait),
            reraise=True,
        )
        errcode: int | None = None
        is_delay: bool | None = None
        try:
            body = retrying(once)
            errcode = int(body.get("errcode", 0) or 0)
            delay = body.get("is_delay")
            is_delay = bool(delay) if delay is not None else None
            return body, attempts
        except _Retryable as error:
            errcode = error.errcode
            raise UnreachableError(
                f"{endpoint}: no answer from WeChat after {attempts} attempts "
                f"({error}); check the network and SIYU_WECHAT_API_BASE, then fetch again"
            ) from None
        finally:
            self._record(
                CallRecord(
                    endpoint=endpoint,
                    begin_date=str(begin) if begin else None,
                    end_date=str(end) if end else None,
                    http_status=status,
                    errcode=errcode,
                    is_delay=is_delay,
                    attempts=attempts,
                    duration_ms=int((time.monotonic() - started) * 1000),
                )
            )

    # -- the stable token -------------------------------------------------------------------

    def _request_token(self, force_refresh: bool) -> tuple[str, int]:
        body, _ = self._post(
            STABLE_TOKEN_PATH,
            "stable_token",
            {
                "grant_type": "client_credential",
                "appid": self._credentials.appid,
                "secret": self._credentials.secret,
                "force_refresh": force_refresh,
            },
            token=None,
        )
        if body.get("errcode"):
            raise error_for("stable_token", None, None, body)
        token, expires_in = body.get("access_token"), body.get("expires_in")
        if not isinstance(token, str) or not isinstance(expires_in, int):
            raise CredentialsError("stable_token: WeChat's answer has no access_token")
        return token, expires_in

    def token(self) -> str:
        """The cached token while it is valid, else a new stable token (shared by fetches)."""
        with self._tokens.locked():
            cached = self._tokens.read()
            if cached is not None:
                return cached
            token, expires_in = self._request_token(force_refresh=False)
            self._tokens.write(token, expires_in)
            return token

    def _token_after_rejection(self, rejected: str, rejected_before: bool) -> str:
        """A stable token again; when the same one came back and was rejected again, once a
        forced refresh (WeChat allows few a day)."""
        with self._tokens.locked():
            cached = self._tokens.read()
            if cached is not None and cached != rejected:
                return cached  # another fetch has renewed it
            force = rejected_before and not self._forced_refresh_used
            if rejected_before and not force:
                raise CredentialsError(
                    "WeChat keeps rejecting the access token (errcode 40001/42001) even after a "
                    "forced refresh: check the account's appid and secret"
                )
            self._forced_refresh_used = self._forced_refresh_used or force
            token, expires_in = self._request_token(force_refresh=force)
            self._tokens.write(token, expires_in)
            return token

    # -- the data APIs ----------------------------------------------------------------------

    def datacube(self, endpoint: str, begin: date, end: date) -> dict[str, Any]:
        """The body of `POST /datacube/<endpoint>` for [begin, end]; raises a WeChatError."""
        payload = {"begin_date": begin.isoformat(), "end_date": end.isoformat()}
        token = self.token()
        rejected: set[str] = set()
        for _renewal in range(MAX_TOKEN_RENEWALS + 1):
            body, _ = self._post(f"/datacube/{endpoint}", endpoint, payload, token)
            errcode = int(body.get("errcode", 0) or 0)
            if errcode == 0:
                return body
            if errcode not in TOKEN_ERRORS:
                raise error_for(endpoint, begin, end, body)
            rejected_before = token in rejected
            rejected.add(token)
            token = self._token_after_rejection(token, rejected_before)
        raise CredentialsError(
            f"{endpoint}: WeChat rejected {MAX_TOKEN_RENEWALS} new access tokens in a row: check "
            "the account's appid and secret"
        )
