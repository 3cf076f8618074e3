"""Deterministic synthetic landing data in the exact formats of `spec/sources.md`.

Vectorised with numpy and Polars: the only Python loop is over days (and over the few WeChat
articles), never over users, sessions or orders, so `--scale 100` (tens of millions of rows) is
a matter of disk space. `--scale 1` is about 200k registered users over the period, ~20k daily
visitors and ~2k paid orders a day.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ingestion.schemas import (
    ARTICLE_DETAIL,
    ARTICLE_TOTAL,
    CHANNEL_SPEND,
    COMMISSION_RULES,
    DISTRIBUTOR_ROSTER,
    MALL_ORDERS,
    MALL_USERS,
    MALL_VISITS,
    USER_CUMULATE,
    USER_SUMMARY,
    WECHAT_USER_SOURCES,
    CommissionLevel,
    DistributorStatus,
    DistributorTier,
    OrderStatus,
)
from ingestion.schemas import CHANNELS as CHANNEL_REGISTRY

BRONZE, SILVER, GOLD = DistributorTier.BRONZE, DistributorTier.SILVER, DistributorTier.GOLD
ACTIVE, SUSPENDED, TERMINATED = (
    DistributorStatus.ACTIVE,
    DistributorStatus.SUSPENDED,
    DistributorStatus.TERMINATED,
)
SELLER, PARENT = CommissionLevel.SELLER, CommissionLevel.PARENT
ONE_DAY = timedelta(days=1)
# an article: msgid, title, followers it was delivered to, open rate, forward rate
Article = tuple[str, str, int, float, float]

UTC_OFFSET_HOURS = 8  # the generated mall exports are in Asia/Shanghai
DEFAULT_START = date(2026, 8, 1)

# code, name, platform, paid channel, weight of acquisition
SAMPLE_CHANNELS: list[tuple[str, str, str, bool, float]] = [
    ("oa_menu", "公众号菜单", "official_account", False, 0.14),
    ("oa_article", "公众号文章", "official_account", False, 0.12),
    ("wx_group_01", "社群一群", "wechat_group", False, 0.10),
    ("wx_group_02", "社群二群", "wechat_group", False, 0.07),
    ("moments_ads", "朋友圈广告", "moments", True, 0.10),
    ("kol_xhs_01", "小红书达人", "xiaohongshu", True, 0.08),
    ("douyin_ads", "抖音信息流", "douyin", True, 0.09),
    ("weibo_01", "微博推广", "weibo", True, 0.04),
    ("search_ads", "搜一搜广告", "search_ads", True, 0.06),
    ("offline_qr_sh", "上海门店二维码", "offline_qr", False, 0.08),
    ("referral", "老带新", "referral", False, 0.07),
]
UNREGISTERED_CHANNEL = ("live_2026", 0.03)  # seen in data, missing from the registry
EMPTY_CHANNEL_SHARE = 0.02
ACTIVITIES = ["group_buy", "flash_sale", "bargain", "coupon", "lottery", "seckill"]
CITIES = ["上海", "北京", "杭州", "广州", "深圳", "成都", "南京", "武汉", "苏州", "西安"]
# share of new followers by WeChat user_source (the documented codes, ingestion.schemas)
SOURCE_WEIGHTS = dict(
    zip(
        WECHAT_USER_SOURCES,
        [0.12, 0.16, 0.07, 0.28, 0.08, 0.09, 0.07, 0.06, 0.05, 0.02],
        strict=True,
    )
)
HOUR_WEIGHTS = np.array(
    [
        1,
        0.5,
        0.3,
        0.2,
        0.2,
        0.3,
        0.8,
        1.5,
        2.2,
        2.6,
        2.8,
        3.0,
        3.6,
        3.0,
        2.6,
        2.5,
        2.6,
        2.8,
        3.2,
        3.8,
        4.6,
        5.0,
        4.2,
        2.2,
    ]
)
HOUR_WEIGHTS = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()
WEEKDAY_FACTOR = np.array([0.92, 0.9, 0.95, 1.0, 1.08, 1.2, 1.15])  # Monday..Sunday


@dataclass(frozen=True)
class GeneratorSettings:
    out: Path
    days: int = 90
    scale: float = 1.0
    seed: int = 7
    start: date = DEFAULT_START
    # share of order and visit rows written dirty (bad timestamp, unknown status, negative
    # amount, missing key), to show the quarantine; 0 = clean data
    dirty_share: float = 0.0


@dataclass
class GenerationSummary:
    out: Path
    start: date
    end: date
    files: int
    rows: int


def campaign_factor(day_index: np.ndarray | int, days: int) -> np.ndarray:
    """Campaign spikes: a mid-period promotion and a 'Double 11'-like peak near the end."""
    d = np.asarray(day_index, dtype=float)
    mid = days * 0.4
    peak = days * 0.8
    return (
        1
        + 0.6 * np.exp(-0.5 * ((d - mid) / 1.5) ** 2)
        + 1.5 * np.exp(-0.5 * ((d - peak) / 1.2) ** 2)
    )


def day_factor(day: date, day_index: int, days: int) -> float:
    return float(WEEKDAY_FACTOR[day.weekday()] * campaign_factor(day_index, days))


def _local_times(rng: np.random.Generator, day: date, n: int) -> np.ndarray:
    """n local (Asia/Shanghai) wall-clock times on `day` with a realistic hourly profile."""
    hours = rng.choice(24, size=n, p=HOUR_WEIGHTS)
    seconds = hours * 3600 + rng.integers(0, 3600, size=n)
    base = np.datetime64(day.isoformat(), "s")
    return base + seconds.astype("timedelta64[s]")


def _fmt_local(times: np.ndarray, style: str) -> pl.Series:
    """Format local times as ISO text: 'naive', 'offset' (+08:00) or 'utc' (Z)."""
    series = pl.Series(times.astype("datetime64[us]"))
    if style == "naive":
        return series.dt.strftime("%Y-%m-%d %H:%M:%S")
    if style == "offset":
        return series.dt.strftime("%Y-%m-%dT%H:%M:%S+08:00")
    utc = series - timedelta(hours=UTC_OFFSET_HOURS)
    return utc.dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _channel_choice(rng: np.random.Generator, n: int) -> np.ndarray:
    codes = [c[0] for c in SAMPLE_CHANNELS] + [UNREGISTERED_CHANNEL[0], ""]
    weights = np.array(
        [c[4] for c in SAMPLE_CHANNELS] + [UNREGISTERED_CHANNEL[1], EMPTY_CHANNEL_SHARE]
    )
    return np.array(codes, dtype=object)[rng.choice(len(codes), size=n, p=weights / weights.sum())]


def _ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """String ids with leading zeros, e.g. _ids("S", [7], 4) -> ["S0007"]."""
    padded = pl.Series(np.asarray(numbers, dtype=np.int64)).cast(pl.String).str.zfill(width)
    return (prefix + padded).to_numpy().astype(object)


DIRT = {
    # column: (value, ...) written into a dirty row
    "mall_orders": [
        ("updated_at", "yesterday"),
        ("status", "lost_in_transit"),
        ("gross_amount", "-1.00"),
        ("order_id", ""),
    ],
    "mall_visits": [
        ("started_at", "2026-13-45 25:61:00"),
        ("session_id", ""),
        ("page_views", "-3"),
    ],
}


def make_dirty(frame: pl.DataFrame, source: str, share: float, seed: int) -> pl.DataFrame:
    """Spoil about `share` of the rows, each with one of the source's kinds of dirt."""
    if share <= 0 or frame.is_empty():
        return frame
    rng = np.random.default_rng(seed)
    dirty = rng.random(frame.height) < share
    if not dirty.any():
        return frame
    kinds = DIRT[source]
    kind = rng.integers(0, len(kinds), size=frame.height)
    text = frame.with_columns(pl.all().cast(pl.String))
    return text.with_columns(
        pl.when(pl.Series(dirty & (kind == i)))
        .then(pl.lit(value))
        .otherwise(pl.col(column))
        .alias(column)
        for i, (column, value) in enumerate(kinds)
    )


def _write_csv(frame: pl.DataFrame, path: Path, encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if encoding == "utf-8":
        frame.write_csv(path)
        return
    text = frame.write_csv()
    if encoding == "utf-8-sig":
        path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    else:
        path.write_bytes(text.encode(encoding))


def _write_json(body: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")


class _Generator:
    def __init__(self, settings: GeneratorSettings) -> None:
        self.s = settings
        self.rng = np.random.default_rng(settings.seed)
        self.out = settings.out
        self.files = 0
        self.rows = 0
        self.days = [settings.start + timedelta(days=i) for i in range(settings.days)]
        self.end = self.days[-1]
        n_users_total = max(50, int(200_000 * settings.scale))
        factors = np.array([day_factor(d, i, settings.days) for i, d in enumerate(self.days)])
        self.registrations = self.rng.poisson(n_users_total * factors / factors.sum())
        self.user_offsets = np.concatenate([[0], np.cumsum(self.registrations)])
        self.user_channel: np.ndarray = _channel_choice(self.rng, int(self.user_offsets[-1]))
        self.visitors_per_day = max(20, int(20_000 * settings.scale))
        self.paid_orders_per_day = max(5, int(2_000 * settings.scale))
        self.pending_orders: dict[date, list[pl.DataFrame]] = {}
        self._make_distributors()

    # -- bookkeeping -------------------------------------------------------------------------
    def csv(self, frame: pl.DataFrame, relative: str, encoding: str = "utf-8") -> None:
        _write_csv(frame, self.out / relative, encoding)
        self.files += 1
        self.rows += frame.height

    def json(self, body: dict, relative: str, rows: int) -> None:
        _write_json(body, self.out / relative)
        self.files += 1
        self.rows += rows

    # -- reference data ----------------------------------------------------------------------
    def _make_distributors(self) -> None:
        n = max(12, int(300 * self.s.scale))
        rng = self.rng
        self.distributor_ids = np.array([f"D{i:05d}" for i in range(1, n + 1)], dtype=object)
        n_top = max(3, n // 5)
        parents = np.full(n, "", dtype=object)
        parents[n_top:] = self.distributor_ids[rng.integers(0, n_top, size=n - n_top)]
        self.distributor_parent = parents
        self.distributor_tier = rng.choice([BRONZE, SILVER, GOLD], size=n, p=[0.6, 0.3, 0.1])
        self.distributor_tier = self.distributor_tier.astype(object)
        self.distributor_tier[:n_top] = rng.choice([SILVER, GOLD], size=n_top).astype(object)
        self.distributor_status = np.full(n, ACTIVE, dtype=object)
        joined = np.datetime64(self.s.start.isoformat(), "s") - rng.integers(1, 400, size=n).astype(
            "timedelta64[D]"
        )
        self.distributor_joined = joined

    def write_reference(self) -> None:
        registry = pl.DataFrame(
            {
                "channel_code": [c[0] for c in SAMPLE_CHANNELS],
                "channel_name": [c[1] for c in SAMPLE_CHANNELS],
                "platform": [c[2] for c in SAMPLE_CHANNELS],
                "launched_on": [
                    (self.s.start - timedelta(days=30 * (i + 1))).isoformat()
                    for i in range(len(SAMPLE_CHANNELS))
                ],
            }
        )
        # saved by Excel on Chinese Windows: GBK (GB18030)
        self.csv(
            registry.select(CHANNEL_REGISTRY.column_names),
            CHANNEL_REGISTRY.file_for(),
            encoding="gb18030",
        )
        change = (self.s.start + timedelta(days=self.s.days // 2)).isoformat()
        before = (self.s.start + timedelta(days=self.s.days // 2 - 1)).isoformat()
        first = (self.s.start - timedelta(days=365)).isoformat()
        rules = pl.DataFrame(
            {
                "tier": [BRONZE, BRONZE, SILVER, SILVER, GOLD, GOLD, GOLD, GOLD],
                "level": [SELLER, PARENT] * 4,
                "rate": ["0.05", "0.01", "0.08", "0.02", "0.10", "0.03", "0.12", "0.03"],
                "effective_from": [first, first, first, first, first, first, change, change],
                "effective_to": ["", "", "", "", before, before, "", ""],
            }
        )
        self.csv(rules.select(COMMISSION_RULES.column_names), COMMISSION_RULES.file_for())

    def write_roster(self, day: date, day_index: int) -> None:
        rng = self.rng
        if day_index > 0:
            n = len(self.distributor_ids)
            promote = rng.random(n) < 0.03
            self.distributor_tier = np.where(
                promote & (self.distributor_tier == SILVER),
                GOLD,
                np.where(
                    promote & (self.distributor_tier == BRONZE), SILVER, self.distributor_tier
                ),
            ).astype(object)
            suspend = rng.random(n) < 0.01
            self.distributor_status = np.where(
                suspend, rng.choice([SUSPENDED, TERMINATED], size=n), self.distributor_status
            ).astype(object)
        frame = pl.DataFrame(
            {
                "distributor_id": self.distributor_ids,
                "name": [f"分销商{i[1:]}" for i in self.distributor_ids],
                "parent_distributor_id": self.distributor_parent,
                "tier": self.distributor_tier,
                "joined_at": _fmt_local(self.distributor_joined, "naive"),
                "status": self.distributor_status,
            }
        )
        self.csv(frame.select(DISTRIBUTOR_ROSTER.column_names), DISTRIBUTOR_ROSTER.file_for(day))

    # -- mall --------------------------------------------------------------------------------
    def write_users(self, day: date, day_index: int) -> None:
        rng = self.rng
        lo, hi = int(self.user_offsets[day_index]), int(self.user_offsets[day_index + 1])
        ids = np.arange(lo, hi)
        changed = np.array([], dtype=np.int64)
        if lo > 0:
            changed = np.unique(rng.integers(0, lo, size=max(0, int(lo * 0.002))))
        all_ids = np.concatenate([ids, changed])
        registered_day = np.searchsorted(self.user_offsets, all_ids, side="right") - 1
        reg_times = (
            np.datetime64(self.s.start.isoformat(), "s")
            + registered_day.astype("timedelta64[D]")
            + ((all_ids * 7919 + self.s.seed * 104729) % 86_400).astype("timedelta64[s]")
        )
        referred = rng.random(len(all_ids)) < 0.15
        referrer = np.where(
            referred,
            self.distributor_ids[rng.integers(0, len(self.distributor_ids), size=len(all_ids))],
            "",
        )
        frame = pl.DataFrame(
            {
                "user_id": _ids("", all_ids, 8),
                "registered_at": _fmt_local(reg_times, "utc"),
                "channel_code": self.user_channel[all_ids] if len(all_ids) else [],
                "referrer_distributor_id": referrer,
                "phone": pl.Series(
                    rng.integers(13_000_000_000, 19_999_999_999, size=len(all_ids))
                ).cast(pl.String),
                "city": np.array(CITIES, dtype=object)[
                    rng.integers(0, len(CITIES), size=len(all_ids))
                ],
            },
            schema_overrides={"channel_code": pl.String, "referrer_distributor_id": pl.String},
        )
        # CRM export: UTF-8 with BOM, columns in its own order
        self.csv(
            frame.select(
                "user_id",
                "phone",
                "registered_at",
                "channel_code",
                "city",
                "referrer_distributor_id",
            ),
            MALL_USERS.file_for(day),
            encoding="utf-8-sig",
        )

    def visitors_of(self, day_index: int, n: int) -> np.ndarray:
        """Users visiting on a day: mostly registered users, a share not registered yet."""
        rng = self.rng
        registered = int(self.user_offsets[day_index + 1])
        anonymous = rng.random(n) < 0.12
        if registered == 0:
            anonymous[:] = True
        recent_bias = rng.power(2.5, size=n)  # newer users visit more often
        ids = (recent_bias * max(registered, 1)).astype(np.int64).clip(0, max(registered - 1, 0))
        user_ids = _ids("", ids, 8)
        guest_ids = _ids(f"G{day_index:03d}", np.arange(int(anonymous.sum())), 6)
        user_ids[anonymous] = guest_ids
        return user_ids

    def write_visits(self, day: date, day_index: int) -> tuple[np.ndarray, np.ndarray]:
        rng = self.rng
        n_visitors = rng.poisson(self.visitors_per_day * day_factor(day, day_index, self.s.days))
        visitors = np.unique(self.visitors_of(day_index, max(1, n_visitors)))
        sessions_per = 1 + rng.poisson(0.35, size=len(visitors))
        users = np.repeat(visitors, sessions_per)
        n = len(users)
        channels = _channel_choice(rng, n)
        frame = pl.DataFrame(
            {
                "session_id": _ids(f"S{day.strftime('%y%m%d')}", np.arange(n), 7),
                "user_id": users,
                "started_at": _fmt_local(_local_times(rng, day, n), "naive"),
                "channel_code": channels,
                "page_views": 1 + rng.poisson(4, size=n),
            },
            schema_overrides={"user_id": pl.String, "channel_code": pl.String},
        )
        duplicates = frame.sample(n=min(3, frame.height), seed=self.s.seed + day_index)
        rows = make_dirty(
            pl.concat([frame, duplicates]),
            "mall_visits",
            self.s.dirty_share,
            self.s.seed * 1000 + day_index,
        )
        self.csv(rows.select(MALL_VISITS.column_names), MALL_VISITS.file_for(day))
        return users, channels

    def make_orders(
        self, day: date, day_index: int, users: np.ndarray, channels: np.ndarray
    ) -> None:
        """Create the day's orders and every later export of them (pay, ship, complete, refund)."""
        rng = self.rng
        n_paid = rng.poisson(self.paid_orders_per_day * day_factor(day, day_index, self.s.days))
        n = max(1, int(n_paid / 0.9))
        pick = rng.integers(0, len(users), size=n)
        created = _local_times(rng, day, n)
        items = 1 + rng.poisson(0.8, size=n)
        unit_cents = (np.exp(rng.normal(np.log(8900), 0.6, size=n))).astype(np.int64)
        gross = items * unit_cents
        activity_pick = rng.integers(0, len(ACTIVITIES) + 3, size=n)
        activity = np.where(
            activity_pick < len(ACTIVITIES),
            np.array(ACTIVITIES + ["", "", ""], dtype=object)[activity_pick],
            "",
        )
        discount = np.where(
            activity != "", (gross * rng.uniform(0.05, 0.3, size=n)).astype(np.int64), 0
        )
        paid_amount = gross - discount
        is_paid = rng.random(n) < 0.9
        paid = created + rng.integers(20, 1800, size=n).astype("timedelta64[s]")
        shipped = paid + rng.integers(6 * 3600, 48 * 3600, size=n).astype("timedelta64[s]")
        completed = shipped + rng.integers(3 * 86400, 10 * 86400, size=n).astype("timedelta64[s]")
        refund_kind = rng.random(n)
        full_refund = is_paid & (refund_kind < 0.04)
        partial_refund = is_paid & (refund_kind >= 0.04) & (refund_kind < 0.07)
        refund_cents = np.where(
            full_refund,
            paid_amount,
            np.where(partial_refund, (paid_amount * 0.3).astype(np.int64), 0),
        )
        refunded = paid + rng.integers(2 * 86400, 25 * 86400, size=n).astype("timedelta64[s]")
        has_distributor = rng.random(n) < 0.3
        distributor = np.where(
            has_distributor,
            self.distributor_ids[rng.integers(0, len(self.distributor_ids), size=n)],
            "",
        )
        order_ids = _ids(f"O{day.strftime('%Y%m%d')}", np.arange(n), 6)
        base = pl.DataFrame(
            {
                "order_id": order_ids,
                "user_id": users[pick],
                "created_at": _fmt_local(created, "offset"),
                "channel_code": channels[pick],
                "distributor_id": distributor,
                "activity_code": activity,
                "item_count": items,
                "gross_amount": gross,
                "discount_amount": discount,
            },
            schema_overrides={
                "user_id": pl.String,
                "channel_code": pl.String,
                "distributor_id": pl.String,
                "activity_code": pl.String,
            },
        )

        def export(
            mask: np.ndarray,
            status: np.ndarray | str,
            when: np.ndarray,
            paid_at: bool,
            refund: bool,
        ) -> None:
            if not mask.any():
                return
            stat = status[mask] if isinstance(status, np.ndarray) else np.full(mask.sum(), status)
            rows = base.filter(pl.Series(mask)).with_columns(
                paid_at=_fmt_local(paid[mask], "offset") if paid_at else pl.lit(""),
                status=pl.Series(stat.astype(str)),
                paid_amount=pl.Series(
                    paid_amount[mask] if paid_at else np.zeros(mask.sum(), dtype=np.int64)
                ),
                refund_amount=pl.Series(
                    refund_cents[mask] if refund else np.zeros(mask.sum(), dtype=np.int64)
                ),
                refunded_at=_fmt_local(refunded[mask], "offset") if refund else pl.lit(""),
                updated_at=_fmt_local(when[mask], "offset"),
                _file_date=pl.Series(
                    when[mask].astype("datetime64[D]").astype("datetime64[us]")
                ).cast(pl.Date),
            )
            for (file_day,), part in rows.partition_by("_file_date", as_dict=True).items():
                self.pending_orders.setdefault(file_day, []).append(part)

        everyone = np.ones(n, dtype=bool)
        cancelled_status = np.where(is_paid, OrderStatus.PENDING, OrderStatus.CANCELLED).astype(
            object
        )
        export(everyone, cancelled_status, created, paid_at=False, refund=False)
        export(is_paid, OrderStatus.PAID, paid, paid_at=True, refund=False)
        export(is_paid, OrderStatus.SHIPPED, shipped, paid_at=True, refund=False)
        not_refunded_before_completion = is_paid & ~((refund_cents > 0) & (refunded < completed))
        export(
            not_refunded_before_completion,
            OrderStatus.COMPLETED,
            completed,
            paid_at=True,
            refund=False,
        )
        refund_status = np.where(
            full_refund, OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED
        ).astype(object)
        export(refund_cents > 0, refund_status, refunded, paid_at=True, refund=True)

    def write_orders(self, day: date) -> None:
        parts = self.pending_orders.pop(day, [])
        columns = list(MALL_ORDERS.column_names)
        if parts:
            frame = pl.concat(parts).sort("updated_at")
        else:
            frame = pl.DataFrame(
                schema={c: pl.Int64 if c.endswith("_amount") else pl.String for c in columns}
            )
        money = ["gross_amount", "discount_amount", "paid_amount", "refund_amount"]
        frame = frame.with_columns(
            (pl.col(c).cast(pl.Int64) // 100).cast(pl.String)
            + "."
            + (pl.col(c).cast(pl.Int64) % 100).cast(pl.String).str.zfill(2)
            for c in money
        ).select(columns)
        if frame.height > 10:  # the mall exports an order twice now and then
            frame = pl.concat([frame, frame.head(2)])
        frame = make_dirty(
            frame, "mall_orders", self.s.dirty_share, self.s.seed * 1000 + day.toordinal()
        )
        self.csv(frame, MALL_ORDERS.file_for(day))

    def write_spend(self, day: date, day_index: int) -> None:
        rng = self.rng
        paid = [c for c in SAMPLE_CHANNELS if c[3]]
        factor = day_factor(day, day_index, self.s.days)
        spend = rng.gamma(4, 400 * self.s.scale * factor / 4, size=len(paid)) + 1
        impressions = (spend * rng.uniform(80, 160, size=len(paid))).astype(np.int64)
        clicks = (impressions * rng.uniform(0.005, 0.03, size=len(paid))).astype(np.int64)
        frame = pl.DataFrame(
            {
                "date": [day.isoformat()] * len(paid),
                "channel_code": [c[0] for c in paid],
                "spend": [f"{x:.2f}" for x in spend],
                "impressions": impressions,
                "clicks": clicks,
            }
        )
        self.csv(frame.select(CHANNEL_SPEND.column_names), CHANNEL_SPEND.file_for(day))

    # -- WeChat Official Account -------------------------------------------------------------
    def write_wechat(self) -> None:
        rng = self.rng
        s = self.s
        total = int(1_200_000 * s.scale) + 1000
        codes = list(SOURCE_WEIGHTS)
        weights = np.array(list(SOURCE_WEIGHTS.values()))
        publish_days: list[tuple[date, list[Article]]] = []
        send_id = 2247483650
        for i, day in enumerate(self.days):
            factor = day_factor(day, i, s.days)
            new = rng.poisson(total * 0.0012 * factor * weights)
            lost = rng.poisson(total * 0.0006 * weights)
            rows = [
                {
                    "ref_date": day.isoformat(),
                    "user_source": code,
                    "new_user": int(a),
                    "cancel_user": int(b),
                }
                for code, a, b in zip(codes, new, lost, strict=True)
                if a or b
            ]
            self.json({"list": rows}, USER_SUMMARY.file_for(day), len(rows))
            total += int(new.sum() - lost.sum())
            self.json(
                {"list": [{"ref_date": day.isoformat(), "user_source": 0, "cumulate_user": total}]},
                USER_CUMULATE.file_for(day),
                1,
            )
            if day.weekday() in (0, 2, 4, 5) or rng.random() < 0.2:
                send_id += 1
                articles = []
                for position in range(1, int(rng.integers(1, 4)) + 1):
                    open_rate = float(rng.uniform(0.08, 0.22)) / position
                    forward = float(rng.uniform(0.02, 0.09))
                    title = f"第{send_id % 1000}期 · 精选好物 {position}"
                    articles.append((f"{send_id}_{position}", title, total, open_rate, forward))
                publish_days.append((day, articles))
        # WeChat's current article API has data from 2025-11-01 on: days before land as the
        # retired getarticletotal did, later days as getarticletotaldetail does
        detail_from = ARTICLE_DETAIL.data_from or date.min
        self.write_article_totals(publish_days, last_day=min(self.end, detail_from - ONE_DAY))
        self.write_article_details(publish_days, first_day=max(self.s.start, detail_from))

    def write_article_totals(
        self, publish_days: list[tuple[date, list[Article]]], last_day: date
    ) -> None:
        """getarticletotal, as its fetcher ran each morning for the last 7 publish dates: the
        file of fetch date F holds the details up to F - 1."""
        for fetch_day in self.days[1:]:
            if fetch_day - ONE_DAY > last_day:
                break
            body = []
            for publish_day, articles in publish_days:
                age = (fetch_day - publish_day).days
                if not 1 <= age <= 7:
                    continue
                for msgid, title, target, open_rate, forward in articles:
                    details = []
                    for k in range(min(age, 7)):
                        stat_day = publish_day + timedelta(days=k)
                        # the newest stat_date is provisional: a later fetch revises it upwards
                        provisional = 0.97 if stat_day == fetch_day - ONE_DAY else 1.0
                        curve = (1 - np.exp(-(k + 1) / 1.6)) * provisional
                        reads = int(target * open_rate * curve)
                        shares = int(reads * forward)
                        details.append(
                            {
                                "stat_date": stat_day.isoformat(),
                                "target_user": target,
                                "int_page_read_user": reads,
                                "int_page_read_count": int(reads * 1.2),
                                "ori_page_read_user": int(reads * 0.05),
                                "ori_page_read_count": int(reads * 0.06),
                                "share_user": shares,
                                "share_count": int(shares * 1.3),
                                "add_to_fav_user": int(reads * 0.015),
                                "add_to_fav_count": int(reads * 0.016),
                            }
                        )
                    body.append(
                        {
                            "ref_date": publish_day.isoformat(),
                            "msgid": msgid,
                            "title": title,
                            "details": details,
                        }
                    )
            self.json(
                {"list": body},
                ARTICLE_TOTAL.file_for(fetch_day),
                sum(len(a["details"]) for a in body),
            )

    def write_article_details(
        self, publish_days: list[tuple[date, list[Article]]], first_day: date
    ) -> None:
        """getarticletotaldetail, as `siyu fetch wechat` lands it: the file of day D holds the
        articles published D - 29 .. D with their details up to D. Now and then WeChat's data for
        D is not final yet (is_delay): D's details are provisional, and D + 1's file revises
        them."""
        delayed = self.rng.random(len(self.days)) < 0.08
        for index, day in enumerate(self.days):
            if day < first_day:
                continue
            body: list[dict[str, Any]] = []
            for publish_day, articles in publish_days:
                age = (day - publish_day).days
                if not 0 <= age <= 29:
                    continue
                for msgid, title, target, open_rate, forward in articles:
                    details: list[dict[str, Any]] = []
                    for k in range(age + 1):
                        stat_day = publish_day + timedelta(days=k)
                        provisional = 0.97 if delayed[index] and stat_day == day else 1.0
                        curve = (1 - np.exp(-(k + 1) / 1.6)) * provisional
                        reads = int(target * open_rate * curve)
                        shares = int(reads * forward)
                        details.append(
                            {
                                "stat_date": stat_day.isoformat(),
                                "read_user": reads,
                                "share_user": shares,
                                "zaikan_user": int(reads * 0.04),
                                "like_user": int(reads * 0.08),
                                "comment_count": int(reads * 0.006),
                                "collection_user": int(reads * 0.015),
                                "read_subscribe_user": int(reads * 0.004),
                                "read_delivery_rate": round(open_rate * curve * 0.8, 4),
                                "read_finish_rate": 0.62,
                                "read_user_source": [{"scene_desc": "全部", "user_count": reads}],
                            }
                        )
                    body.append(
                        {
                            "ref_date": publish_day.isoformat(),
                            "msgid": msgid,
                            "publish_type": 0,
                            "title": title,
                            "detail_list": details,
                        }
                    )
            self.json(
                {"list": body, "is_delay": bool(delayed[index])},
                ARTICLE_DETAIL.file_for(day),
                sum(len(a["detail_list"]) for a in body),
            )

    def run(self, on_day: Callable[[int, int, date], None] | None = None) -> GenerationSummary:
        self.write_reference()
        for i, day in enumerate(self.days):
            if on_day is not None:
                on_day(i, len(self.days), day)
            if i % 7 == 0:
                self.write_roster(day, i)
            self.write_users(day, i)
            users, channels = self.write_visits(day, i)
            self.make_orders(day, i, users, channels)
            self.write_orders(day)
            self.write_spend(day, i)
        self.write_wechat()
        return GenerationSummary(self.out, self.s.start, self.end, self.files, self.rows)


def generate_landing_zone(
    settings: GeneratorSettings, on_day: Callable[[int, int, date], None] | None = None
) -> GenerationSummary:
    """Write a full landing zone for `settings.days` days from `settings.start`; `on_day` is
    told each day as it begins (days done, days in all, the day)."""
    settings.out.mkdir(parents=True, exist_ok=True)
    return _Generator(settings).run(on_day)


def landing_zone_is_present(landing_dir: Path) -> bool:
    return any(landing_dir.glob(MALL_ORDERS.path_glob))
