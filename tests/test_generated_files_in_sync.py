"""Files rendered from ingestion/schemas.py are committed, never edited by hand."""

from __future__ import annotations

import pytest

from expectations.export import SUITES_DIR, suite_documents
from ingestion.dbt_render import rendered_files

pytestmark = pytest.mark.unit


def test_committed_dbt_files_match_the_schemas() -> None:
    for path, text in rendered_files().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path} is stale: run `python -m ingestion.dbt_render` (make render)"
        )


def test_committed_gx_suites_match_the_code() -> None:
    documents = suite_documents()
    assert sorted(p.name for p in SUITES_DIR.glob("*.json")) == sorted(documents)
    for name, text in documents.items():
        assert (SUITES_DIR / name).read_text(encoding="utf-8") == text, (
            f"expectations/suites/{name} is stale: run `python -m expectations.export`"
        )
