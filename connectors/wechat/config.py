"""How Siyu reaches a brand's WeChat account: the API base and the credentials, from the
environment only (never printed, logged, written to a file or put in run config)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_API_BASE = "https://api.weixin.qq.com"
ENV_APPID = "SIYU_WECHAT_APPID"
ENV_APPSECRET = "SIYU_WECHAT_APPSECRET"
NO_CREDENTIALS = (
    f"no WeChat credentials: set {ENV_APPID} and {ENV_APPSECRET} (the account's AppID and "
    "AppSecret) to fetch from WeChat; the refresh uses the files in the landing folder"
)


@dataclass(frozen=True)
class Credentials:
    """The account's AppID and AppSecret. Neither shows in a repr."""

    appid: str = field(repr=False)
    secret: str = field(repr=False)


def credentials_from_environment(environment: Mapping[str, str]) -> Credentials | None:
    appid = environment.get(ENV_APPID, "").strip()
    secret = environment.get(ENV_APPSECRET, "").strip()
    return Credentials(appid, secret) if appid and secret else None
