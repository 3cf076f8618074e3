"""Write every suite to `expectations/suites/<suite>.json` (GX's own JSON form).

The suites are defined in code (`expectations/suites.py`, from `ingestion/schemas.py`); the files
are for review and for other GX tools. Run `python -m expectations.export` after changing a
schema or a suite; a test fails while the committed files differ from what this writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from expectations.limits import GateLimits
from expectations.suites import batch_suite, row_suite
from ingestion.schemas import SOURCES

SUITES_DIR = Path(__file__).resolve().parent / "suites"


def suite_documents(limits: GateLimits | None = None) -> dict[str, str]:
    """{file name: JSON text} of every suite with the default limits."""
    limits = limits or GateLimits()
    documents: dict[str, str] = {}
    for schema in SOURCES:
        for suite in (row_suite(schema), batch_suite(schema, limits)):
            body: dict[str, Any] = dict(suite.to_json_dict())
            body.pop("id", None)
            for expectation in body.get("expectations", []):
                expectation.pop("id", None)
            documents[f"{suite.name}.json"] = (
                json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
            )
    return documents


def write_suites() -> list[Path]:
    SUITES_DIR.mkdir(exist_ok=True)
    written = []
    for name, text in suite_documents().items():
        path = SUITES_DIR / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_suites():
        print(written_path)  # noqa: T201 - a developer command
