"""The synthetic generator: deterministic, in the spec's formats, realistic in shape."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from ingestion.parsing import parse_file_bytes
from ingestion.schemas import ARTICLE_TOTAL, SOURCES
from synthetic.generator import GeneratorSettings, generate_landing_zone

pytestmark = pytest.mark.integration


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            h.update(path.relative_to(folder).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("generated")
    generate_landing_zone(
        GeneratorSettings(out=out, days=21, scale=0.02, seed=3, start=date(2026, 9, 1))
    )
    return out


def test_same_seed_same_bytes(landing: Path, tmp_path: Path) -> None:
    generate_landing_zone(
        GeneratorSettings(out=tmp_path, days=21, scale=0.02, seed=3, start=date(2026, 9, 1))
    )
    assert digest(tmp_path) == digest(landing)


def test_every_source_parses_without_rejects(landing: Path) -> None:
    for schema in SOURCES:
        files = sorted(landing.glob(schema.path_glob))
        # September 2026: WeChat's articles come from getarticletotaldetail only
        assert bool(files) == (schema is not ARTICLE_TOTAL), f"files of {schema.name}"
        for path in files:
            batch = parse_file_bytes(path.read_bytes(), schema, "Asia/Shanghai")
            assert batch.rejected.is_empty(), (path, batch.rejected.head(3).to_dicts())


def test_realistic_shape(landing: Path) -> None:
    orders = pl.concat(
        [
            pl.read_csv(p, infer_schema=False).with_columns(file=pl.lit(p.stem))
            for p in sorted((landing / "mall" / "orders").glob("*.csv"))
        ]
    )
    exports = orders.group_by("order_id").agg(pl.col("status").n_unique().alias("states"))
    assert exports["states"].max() >= 3  # re-exported on every change
    refunds = orders.filter(pl.col("refund_amount").cast(pl.Float64) > 0)
    assert refunds.height > 0
    late = refunds.filter(
        pl.col("refunded_at").str.slice(0, 10) > pl.col("paid_at").str.slice(0, 10)
    )
    assert late.height == refunds.height  # refunds arrive days after payment
    assert set(orders["activity_code"].drop_nulls().unique()) >= {"group_buy", "flash_sale"}
    rosters = sorted((landing / "distributors" / "roster").glob("*.csv"))
    assert len(rosters) >= 3
    roster = pl.read_csv(rosters[0], infer_schema=False)
    assert roster["parent_distributor_id"].null_count() < roster.height  # a two-level tree
    articles = json.loads(
        sorted((landing / "wechat_oa" / "article_detail").glob("*.json"))[-1].read_text(
            encoding="utf-8"
        )
    )
    assert len({a["ref_date"] for a in articles["list"]}) > 1  # re-fetches of 30 publish dates
    delays = [
        json.loads(path.read_text(encoding="utf-8"))["is_delay"]
        for path in sorted((landing / "wechat_oa" / "article_detail").glob("*.json"))
    ]
    assert True in delays and False in delays  # now and then WeChat's data is not final yet
    raw = (landing / "channels" / "channels.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # saved by Excel on Chinese Windows: GBK


def test_dirty_rows_when_asked_are_quarantined_with_reasons(tmp_path: Path) -> None:
    from ingestion.schemas import MALL_ORDERS, MALL_VISITS

    generate_landing_zone(
        GeneratorSettings(
            out=tmp_path, days=3, scale=0.05, seed=5, start=date(2026, 9, 1), dirty_share=0.02
        )
    )
    reasons: list[str] = []
    landed = rejected = 0
    for schema in (MALL_ORDERS, MALL_VISITS):
        for path in sorted(tmp_path.glob(schema.path_glob)):
            batch = parse_file_bytes(path.read_bytes(), schema, "Asia/Shanghai")
            landed += batch.rows_landed
            rejected += batch.rejected.height
            reasons += batch.rejected["_reason"].to_list()
    assert 0.005 < rejected / landed < 0.05
    text = " | ".join(reasons)
    for expected in ("is not an ISO 8601 timestamp", "is not one of", "is negative", "is missing"):
        assert expected in text


def test_article_files_follow_the_api_wechat_had_on_each_day(tmp_path: Path) -> None:
    # getarticletotaldetail has data from 2025-11-01 on; the days before land as getarticletotal
    generate_landing_zone(
        GeneratorSettings(out=tmp_path, days=10, scale=0.01, seed=2, start=date(2025, 10, 27))
    )
    totals = sorted(p.stem for p in (tmp_path / "wechat_oa" / "article_total").glob("*.json"))
    details = sorted(p.stem for p in (tmp_path / "wechat_oa" / "article_detail").glob("*.json"))
    # article_total files are named by their fetch date, the morning after the day they cover
    assert totals == ["2025-10-28", "2025-10-29", "2025-10-30", "2025-10-31", "2025-11-01"]
    assert details[0] == "2025-11-01" and details[-1] == "2025-11-05" and len(details) == 5
    last = json.loads((tmp_path / "wechat_oa" / "article_detail" / "2025-11-05.json").read_text())
    for article in last["list"]:
        assert all(d["stat_date"] <= "2025-11-05" for d in article["detail_list"])
