"""The access-token cache: a file readable by its owner only, shared by concurrent fetches.

A token is used until 5 minutes before it expires. The cache is tied to the account (a digest
of the appid, never the appid itself): another account's token is never used.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

from ingestion.content_hash import content_digest

SAFETY_MARGIN_SECONDS = 300


class TokenCache:
    def __init__(self, path: Path, appid: str) -> None:
        self.path = path
        self._account = content_digest(b"siyu-wechat-account|", appid.encode())[:16]

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Held while a token is read or renewed, so concurrent fetches renew it once."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock_path = self.path.with_name(f"{self.path.name}.lock")
        with open(lock_path, "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def read(self, now: float | None = None) -> str | None:
        """The cached token, when it is this account's and valid for 5 more minutes."""
        try:
            cached = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        now = time.time() if now is None else now
        if (
            not isinstance(cached, dict)
            or cached.get("account") != self._account
            or not isinstance(cached.get("access_token"), str)
            or float(cached.get("expires_at", 0)) - SAFETY_MARGIN_SECONDS <= now
        ):
            return None
        return str(cached["access_token"])

    def write(self, token: str, expires_in: int, now: float | None = None) -> None:
        """Replace the cache atomically; the file is created with mode 0600."""
        now = time.time() if now is None else now
        body = {"account": self._account, "access_token": token, "expires_at": now + expires_in}
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(body, handle)
        os.replace(temporary, self.path)
