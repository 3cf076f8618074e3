"""Parsing rules of landed files: pure functions, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ingestion.parsing import (
    BadFileError,
    decode_text,
    file_date_from_name,
    parse_file_bytes,
    parse_timestamps,
)
from ingestion.schemas import (
    ARTICLE_DETAIL,
    ARTICLE_TOTAL,
    MALL_ORDERS,
    MALL_USERS,
    MALL_VISITS,
    USER_SUMMARY,
)

pytestmark = pytest.mark.unit

ORDER_HEADER = (
    "order_id,user_id,created_at,paid_at,status,channel_code,distributor_id,activity_code,"
    "item_count,gross_amount,discount_amount,paid_amount,refund_amount,refunded_at,updated_at"
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-01T23:30:00+08:00", utc(2026, 11, 1, 15, 30)),
        ("2026-11-01 15:30:00Z", utc(2026, 11, 1, 15, 30)),
        ("2026-11-01T08:00:00", utc(2026, 11, 1, 0, 0)),  # no offset: Asia/Shanghai
        ("2026-11-01T08:00", utc(2026, 11, 1, 0, 0)),
        ("2026-11-01", utc(2026, 10, 31, 16, 0)),  # a date alone: local midnight
        ("2026-11-01T08:00:00.250-05:00", utc(2026, 11, 1, 13, 0, 0, 250000)),
        ("2026-11-01T08:00:00+0530", utc(2026, 11, 1, 2, 30)),
        # a space before the offset (DuckDB's own cast refuses it; the loader takes it)
        ("2026-11-01 23:30:00 +08:00", utc(2026, 11, 1, 15, 30)),
        ("2026-11-01 15:30  Z", utc(2026, 11, 1, 15, 30)),
        ("2026-13-01T00:00:00", None),
        ("yesterday", None),
        ("2026/11/01 08:00", None),
    ],
)
def test_parse_timestamps(text: str, expected: datetime | None) -> None:
    # Aware datetimes compare as instants, whatever zone DuckDB hands them back in.
    assert parse_timestamps([text], "Asia/Shanghai") == [expected]


def test_decode_text_utf8_bom_and_gbk() -> None:
    assert decode_text("a,b\n上海,1\n".encode()) == ("a,b\n上海,1\n", "utf-8")
    assert decode_text(b"\xef\xbb\xbfa\n") == ("a\n", "utf-8")
    assert decode_text("城市\n上海\n".encode("gbk")) == ("城市\n上海\n", "gb18030")
    with pytest.raises(BadFileError, match="empty"):
        decode_text(b"")
    with pytest.raises(BadFileError, match="neither valid UTF-8 nor GB18030"):
        decode_text(b"a,b\n\x81\x20\xff\xfe\n")


def test_file_date_from_name() -> None:
    assert file_date_from_name("2026-11-01") == date(2026, 11, 1)
    with pytest.raises(BadFileError, match="not a date"):
        file_date_from_name("orders_final")


def test_orders_rows_are_typed_and_bad_rows_explained() -> None:
    csv = "\n".join(
        [
            ORDER_HEADER + ",export_batch",
            "007,u1,2026-11-01T23:30:00+08:00,2026-11-01T23:31:00+08:00,paid,,D1,group_buy,2,"
            "100.00,10.00,90.00,0,,2026-11-01T23:31:00+08:00,b1",
            "008,u2,2026-11-01T10:00:00,,teleported,ch1,,,1,-5,0,0,0,,2026-11-01T10:00:00,b1",
            "009,u3,2026-11-01T10:00:00,2026-11-01T10:00:00,paid,ch1,,,1,50,0,50,60,"
            "2026-11-02,2026-11-01T10:00:00,b1",
            "010,u4,2026-11-01T10:00:00,2026-11-01T10:00:00,paid,ch1,,,1,50.123,0,50,0,,"
            "2026-11-01T10:00:00,b1",
            ",u5,2026-11-01T10:00:00,,pending,ch1,,,1,5,0,0,0,,not-a-time,b1",
        ]
    )
    batch = parse_file_bytes(csv.encode(), MALL_ORDERS, "Asia/Shanghai")
    assert batch.rows_landed == 5
    assert batch.good.height + batch.rejected.height == batch.rows_landed
    good = batch.good.row(0, named=True)
    assert good["order_id"] == "007"  # ids stay strings with their leading zeros
    assert good["paid_amount"] == Decimal("90.00")
    assert good["channel_code"] is None
    reasons = dict(zip(batch.rejected["_row_number"], batch.rejected["_reason"], strict=True))
    assert "status 'teleported' is not one of" in reasons[2]
    assert "gross_amount is negative" in reasons[2]
    assert "refund_amount is greater than paid_amount" in reasons[3]
    assert "gross_amount '50.123' is not an amount with at most 2 decimals" in reasons[4]
    assert "order_id is missing" in reasons[5]
    assert "updated_at 'not-a-time' is not an ISO 8601 timestamp" in reasons[5]


def test_missing_required_column_rejects_the_file() -> None:
    csv = ORDER_HEADER.replace(",paid_amount", "") + "\n"
    with pytest.raises(BadFileError, match="required column\\(s\\) missing: paid_amount"):
        parse_file_bytes(csv.encode(), MALL_ORDERS, "Asia/Shanghai")


def test_header_only_file_is_an_empty_day() -> None:
    batch = parse_file_bytes(
        b"session_id,user_id,started_at,channel_code,page_views\n", MALL_VISITS, "Asia/Shanghai"
    )
    assert batch.rows_landed == 0 and batch.good.is_empty() and batch.rejected.is_empty()


def test_personal_data_is_masked_in_rejected_records() -> None:
    csv = (
        "user_id,registered_at,channel_code,referrer_distributor_id,phone,city\n"
        "u1,not-a-date,,,13812345678,上海\n"
    )
    batch = parse_file_bytes(csv.encode(), MALL_USERS, "Asia/Shanghai")
    record = batch.rejected["_raw_record"][0]
    assert "13812345678" not in record and "138******78" in record


def test_wechat_error_body_and_broken_json_reject_the_file() -> None:
    with pytest.raises(BadFileError, match="WeChat error body \\(errcode 61501"):
        parse_file_bytes(
            b'{"errcode": 61501, "errmsg": "date range error"}', USER_SUMMARY, "Asia/Shanghai"
        )
    with pytest.raises(BadFileError, match="not valid JSON"):
        parse_file_bytes(b'{"list": [{"ref_date": "2026-11-01"', USER_SUMMARY, "Asia/Shanghai")
    with pytest.raises(BadFileError, match="no 'list'"):
        parse_file_bytes(b'{"data": []}', USER_SUMMARY, "Asia/Shanghai")


def test_wechat_empty_list_and_unknown_fields() -> None:
    assert parse_file_bytes(b'{"list": []}', USER_SUMMARY, "Asia/Shanghai").rows_landed == 0
    body = (
        b'{"list": [{"ref_date": "2026-11-01", "user_source": 999, "new_user": 3, '
        b'"cancel_user": 1, "brand_new_field": {"x": 1}}]}'
    )
    batch = parse_file_bytes(body, USER_SUMMARY, "Asia/Shanghai")
    assert batch.good.row(0, named=True)["user_source"] == 999


def test_article_details_are_flattened_and_checked() -> None:
    body = (
        '{"list": [{"ref_date": "2026-11-01", "msgid": "1_1", "title": "标题", "details": ['
        '{"stat_date": "2026-11-01", "target_user": 100, "int_page_read_user": 10, '
        '"share_user": 1, "add_to_fav_user": 0},'
        '{"stat_date": "2026-11-08", "target_user": 100, "int_page_read_user": 12, '
        '"share_user": 1, "add_to_fav_user": 0}]}]}'
    ).encode()
    batch = parse_file_bytes(body, ARTICLE_TOTAL, "Asia/Shanghai")
    assert batch.good["stat_date"].to_list() == [date(2026, 11, 1)]
    assert batch.rejected["_reason"].to_list() == ["stat_date is not within 7 days from ref_date"]


def test_article_detail_rows_of_the_current_api() -> None:
    def detail(stat: str, rate: object) -> str:
        return (
            f'{{"stat_date": "{stat}", "read_user": 10, "share_user": 1, "zaikan_user": 0, '
            f'"like_user": 2, "comment_count": 0, "collection_user": 1, '
            f'"read_subscribe_user": 0, "read_delivery_rate": {rate}, "read_finish_rate": 0.5, '
            f'"read_user_source": [{{"scene_desc": "全部", "user_count": 10}}], "later": 1}}'
        )

    body = (
        '{"list": [{"ref_date": "2026-11-01", "msgid": "9_1", "publish_type": 1, "title": "标题", '
        '"detail_list": ['
        + ", ".join(
            [
                detail("2026-11-01", "0.0271"),
                detail("2026-11-30", "2.5e-2"),  # day 29: the last day of the window
                detail("2026-12-01", "0.03"),  # day 30: outside it
                detail("2026-11-02", "1.2"),  # a fraction above 1
            ]
        )
        + '], "read_jump_position": []}], "is_delay": true}'
    ).encode()
    batch = parse_file_bytes(body, ARTICLE_DETAIL, "Asia/Shanghai")
    good = batch.good.to_dicts()
    assert [row["stat_date"] for row in good] == [date(2026, 11, 1), date(2026, 11, 30)]
    assert [row["read_delivery_rate"] for row in good] == [0.0271, 0.025]
    assert good[0]["publish_type"] == 1 and good[0]["like_user"] == 2
    assert batch.rejected["_reason"].to_list() == [
        "stat_date is not within 30 days from ref_date",
        "read_delivery_rate is above 1 (rates are fractions)",
    ]
