"""SHA-256 digests of content: landed files (the loader's and the sensor's change detection) and
the dbt project (full refresh after a change). The one place Siyu hashes content."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

_BLOCK = 1 << 20


def content_digest(*parts: bytes) -> str:
    """The hex SHA-256 of the parts, in order."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    """The hex SHA-256 of a file's bytes, read in blocks (a landed file can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_digest(root: Path, files: Iterable[Path]) -> str:
    """The hex SHA-256 of files' paths (relative to `root`) and contents, in the given order."""
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.relative_to(root).as_posix().encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()
