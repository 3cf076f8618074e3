"""The one definition of every landing source's schema.

Ingestion (parsing and row rules), the Great Expectations suites and the dbt source yml are all
derived from the objects in this module, so the three cannot drift apart. What is special about
a source is declared on its schema (its row rules, the nested list of a WeChat body, its unique
key), never in `if source == ...` branches elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Literal

ColumnKind = Literal[
    "id", "text", "timestamp", "date", "money", "count", "int", "rate", "fraction", "enum"
]
Family = Literal["platform", "own"]
FileFormat = Literal["csv", "json"]


class OrderStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


class DistributorTier(StrEnum):
    """The documented tiers; others are allowed and need commission rules."""

    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"


class DistributorStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"


class CommissionLevel(StrEnum):
    SELLER = "1"  # the distributor who made the sale
    PARENT = "2"  # that distributor's parent (upline override)


ORDER_STATUSES = tuple(status.value for status in OrderStatus)
DISTRIBUTOR_TIERS = tuple(tier.value for tier in DistributorTier)
DISTRIBUTOR_STATUSES = tuple(status.value for status in DistributorStatus)
COMMISSION_LEVELS = tuple(level.value for level in CommissionLevel)

# WeChat `user_source` codes of getusersummary, with the labels analysts see.
WECHAT_USER_SOURCES: dict[int, str] = {
    0: "other sources",
    1: "account search",
    17: "profile-card share",
    30: "QR-code scan",
    57: "account name in an article",
    100: "WeChat ads",
    149: "mini-program",
    161: "reposted by others",
    200: "Channels (video account)",
    201: "live stream",
}

# DuckDB types of the raw tables, by column kind.
DUCKDB_TYPES: dict[ColumnKind, str] = {
    "id": "varchar",
    "text": "varchar",
    "enum": "varchar",
    "timestamp": "timestamptz",
    "date": "date",
    "money": "decimal(18,2)",
    "count": "bigint",
    "int": "bigint",
    "rate": "decimal(9,6)",  # an exact rate of our own (a commission rule)
    "fraction": "double",  # a rate WeChat computes (e.g. read_delivery_rate), taken as it is
}

# Lineage columns every raw table carries in addition to its own.
LINEAGE_COLUMNS: dict[str, str] = {
    "_file": "varchar",
    "_file_date": "date",
    "_row_number": "bigint",
}


@dataclass(frozen=True)
class Column:
    """One column of a landing source, with the rules a value must meet."""

    name: str
    kind: ColumnKind
    description: str
    nullable: bool = False
    allowed: tuple[str, ...] = ()
    # enum values outside `allowed` are kept (e.g. a new distributor tier) instead of rejected
    open_enum: bool = False
    # personal data: stored only as a salted hash in `<name>_hash`, masked in quarantine records
    personal: bool = False

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.kind]

    @property
    def raw_name(self) -> str:
        """The column's name in the raw table."""
        return f"{self.name}_hash" if self.personal else self.name


@dataclass(frozen=True)
class NotGreaterThan:
    """`smaller` <= `larger` on every row where both are present."""

    smaller: str
    larger: str

    @property
    def reason(self) -> str:
        return f"{self.smaller} is greater than {self.larger}"


@dataclass(frozen=True)
class DifferenceEquals:
    """`result` = `minuend` − `subtrahend` on every row where `when_present` is set."""

    result: str
    minuend: str
    subtrahend: str
    when_present: str

    @property
    def reason(self) -> str:
        return f"{self.result} is not {self.minuend} − {self.subtrahend}"


@dataclass(frozen=True)
class PresentWhenPositive:
    """`required` is set on every row where `amount` is above 0."""

    required: str
    amount: str

    @property
    def reason(self) -> str:
        return f"{self.amount} is above 0 but {self.required} is empty"


@dataclass(frozen=True)
class DaysAfter:
    """`end` falls 0 .. `max_days` days after `start`; the row suite checks the offset as the
    derived column `offset_column`."""

    start: str
    end: str
    max_days: int
    offset_column: str

    @property
    def reason(self) -> str:
        return f"{self.end} is not within {self.max_days + 1} days from {self.start}"


RowRule = NotGreaterThan | DifferenceEquals | PresentWhenPositive | DaysAfter


@dataclass(frozen=True)
class SourceSchema:
    """A landing source: where its files are, their format, and their columns."""

    name: str  # raw table name, e.g. "mall_orders"
    system: str  # dbt source name / staging folder, e.g. "mall"
    entity: str  # dbt source table name, e.g. "orders"
    family: Family
    file_format: FileFormat
    path_glob: str  # relative to the landing folder
    dated: bool  # True when each file is named <YYYY-MM-DD>.<ext>
    description: str
    columns: tuple[Column, ...]
    # a key that must be unique across all files: same key, other content = conflicting duplicate
    unique_key: tuple[str, ...] = ()
    # "all": the key is unique across every file of the source; "file": within one file only
    unique_scope: Literal["all", "file"] = "all"
    # rules across the columns of a row, checked on every row (a broken one quarantines it)
    row_rules: tuple[RowRule, ...] = ()
    # WeChat bodies whose items nest their rows in a list (e.g. an article's `details`): one
    # row per nested item, with the item's own fields
    nested_rows: str | None = None
    # a new file is expected at least every this many days (freshness check)
    expected_every_days: int = 1
    # False for a source that may be absent altogether (the two article sources): no freshness
    # warning while it has never landed
    required: bool = True
    # the source that replaced this one: while it is fresh, this one is not expected
    superseded_by: str | None = None
    # the WeChat data API whose responses land as this source (`siyu fetch wechat`)
    wechat_api: str | None = None
    # the first business day the WeChat API has data for (None: no limit)
    data_from: date | None = None
    # the fetcher lands this source's files for the days before the fetched one again
    # (revisions): a refresh of days [start, end] also loads changed files of the
    # `revised_days` days before start
    revised_days: int = 0
    # what the change log records of rows that are loaded or removed, so incremental models
    # know which entities and business dates to recompute: the entity id, and the instants
    # whose business date a changed row moves (of every row of the entity, old and new)
    change_key: str | None = None
    change_instants: tuple[str, ...] = ()
    # the entity a changed row belongs to (an order's or a session's user), of every row of the
    # changed entities, old and new: per-user models recompute those owners
    change_owner: str | None = None

    @property
    def raw_table(self) -> str:
        return f"raw.{self.name}"

    def days_to_load(self, start: date | None, end: date | None) -> tuple[date | None, date | None]:
        """The file days a refresh of business days [start, end] loads: with the days before
        that the fetcher revises (`revised_days`)."""
        if start is None or not self.revised_days:
            return start, end
        return start - timedelta(days=self.revised_days), end

    def file_for(self, day: date | None = None) -> str:
        """The path of the source's file (of `day`, for a daily source) in the landing folder."""
        if not self.dated:
            return self.path_glob
        if day is None:
            raise ValueError(f"{self.name} has a file per day: give the day")
        return self.path_glob.replace("*", day.isoformat())

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def raw_columns(self) -> dict[str, str]:
        """Raw table columns and DuckDB types: the source's own, then lineage."""
        own = {column.raw_name: column.duckdb_type for column in self.columns}
        return own | LINEAGE_COLUMNS

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")


USER_SUMMARY = SourceSchema(
    name="wechat_oa_user_summary",
    system="wechat_oa",
    entity="user_summary",
    family="platform",
    file_format="json",
    path_glob="wechat_oa/user_summary/*.json",
    dated=True,
    description="getusersummary: follower gains and losses by user_source, one file per ref_date.",
    wechat_api="getusersummary",
    revised_days=3,
    columns=(
        Column("ref_date", "date", "The day the figures are for."),
        Column("user_source", "int", "WeChat code of the follow/unfollow source."),
        Column("new_user", "count", "New followers from this source that day."),
        Column("cancel_user", "count", "Unfollows attributed to this source that day."),
    ),
)

USER_CUMULATE = SourceSchema(
    name="wechat_oa_user_cumulate",
    system="wechat_oa",
    entity="user_cumulate",
    family="platform",
    file_format="json",
    path_glob="wechat_oa/user_cumulate/*.json",
    dated=True,
    description="getusercumulate: total followers at the end of ref_date.",
    wechat_api="getusercumulate",
    revised_days=3,
    columns=(
        Column("ref_date", "date", "The day the total is for."),
        Column("user_source", "int", "Always 0 for this API."),
        Column("cumulate_user", "count", "Follower total at the end of ref_date."),
    ),
)

ARTICLE_TOTAL = SourceSchema(
    name="wechat_oa_article_total",
    system="wechat_oa",
    entity="article_total",
    family="platform",
    file_format="json",
    path_glob="wechat_oa/article_total/*.json",
    dated=True,
    description=(
        "getarticletotal responses fetched on the file date, flattened to one row per "
        "(msgid, stat_date) detail. Details are cumulative from the publish date."
    ),
    nested_rows="details",
    row_rules=(DaysAfter("ref_date", "stat_date", max_days=6, offset_column="stat_offset_days"),),
    required=False,
    superseded_by="wechat_oa_article_detail",
    wechat_api="getarticletotal",
    columns=(
        Column("ref_date", "date", "Publish date of the article."),
        Column("msgid", "id", "<send id>_<position in the send>: identifies one article."),
        Column("title", "text", "Article title.", nullable=True),
        Column("stat_date", "date", "Cumulative figures run from ref_date to the end of this day."),
        Column("target_user", "count", "Followers the send was delivered to."),
        Column("int_page_read_user", "count", "Users who read the article (cumulative)."),
        Column("int_page_read_count", "count", "Reads (cumulative).", nullable=True),
        Column("ori_page_read_user", "count", "Original-page readers.", nullable=True),
        Column("ori_page_read_count", "count", "Original-page reads.", nullable=True),
        Column("share_user", "count", "Users who forwarded the article (cumulative)."),
        Column("share_count", "count", "Forwards (cumulative).", nullable=True),
        Column("add_to_fav_user", "count", "Users who added it to favourites (cumulative)."),
        Column("add_to_fav_count", "count", "Favourites (cumulative).", nullable=True),
    ),
)

ARTICLE_DETAIL = SourceSchema(
    name="wechat_oa_article_detail",
    system="wechat_oa",
    entity="article_detail",
    family="platform",
    file_format="json",
    path_glob="wechat_oa/article_detail/*.json",
    dated=True,
    description=(
        "getarticletotaldetail responses for the publish dates D - 29 .. D (file D), flattened to "
        "one row per (msgid, stat_date) detail. Details are cumulative from the publish date."
    ),
    columns=(
        Column("ref_date", "date", "Publish date of the article."),
        Column("msgid", "id", "<msg_data_id>_<index>: identifies one article."),
        Column(
            "publish_type",
            "int",
            "0 = followers were notified, 1 = published without notification.",
            nullable=True,
        ),
        Column("title", "text", "Article title.", nullable=True),
        Column("stat_date", "date", "Cumulative figures run from ref_date to the end of this day."),
        Column("read_user", "count", "All readers (cumulative)."),
        Column("share_user", "count", "Users who shared it (cumulative)."),
        Column("zaikan_user", "count", "Users who tapped 'wow' (在看, cumulative).", nullable=True),
        Column("like_user", "count", "Users who liked it (cumulative).", nullable=True),
        Column("comment_count", "count", "Comments (cumulative).", nullable=True),
        Column("collection_user", "count", "Users who saved it (cumulative).", nullable=True),
        Column(
            "read_subscribe_user",
            "count",
            "Readers who then followed the account (cumulative).",
            nullable=True,
        ),
        Column(
            "read_delivery_rate",
            "fraction",
            "WeChat's open rate: readers from the push over followers it was delivered to.",
            nullable=True,
        ),
        Column(
            "read_finish_rate", "fraction", "Share of readers who read to the end.", nullable=True
        ),
    ),
    nested_rows="detail_list",
    row_rules=(DaysAfter("ref_date", "stat_date", max_days=29, offset_column="stat_offset_days"),),
    required=False,
    wechat_api="getarticletotaldetail",
    data_from=date(2025, 11, 1),
    revised_days=1,
)

MALL_USERS = SourceSchema(
    name="mall_users",
    system="mall",
    entity="users",
    family="own",
    file_format="csv",
    path_glob="mall/users/*.csv",
    dated=True,
    description="Registered users, new or changed that day; the latest file's row wins.",
    columns=(
        Column("user_id", "id", "Mall user id (a string; leading zeros kept)."),
        Column("registered_at", "timestamp", "Registration time; never changes."),
        Column("channel_code", "id", "Acquisition channel; empty = unknown.", nullable=True),
        Column("referrer_distributor_id", "id", "Referring distributor, if any.", nullable=True),
        Column(
            "phone",
            "text",
            "Personal data: only a salted SHA-256 hash is stored (NULL without a salt).",
            nullable=True,
            personal=True,
        ),
        Column("city", "text", "City.", nullable=True),
    ),
    change_key="user_id",
    change_instants=("registered_at",),
)

MALL_VISITS = SourceSchema(
    name="mall_visits",
    system="mall",
    entity="visits",
    family="own",
    file_format="csv",
    path_glob="mall/visits/*.csv",
    dated=True,
    description="Mini-program sessions started that day.",
    columns=(
        Column("session_id", "id", "Unique session id."),
        Column("user_id", "id", "Visitor (may not be registered yet)."),
        Column("started_at", "timestamp", "Session start."),
        Column(
            "channel_code", "id", "Entry channel of the session; empty = unknown.", nullable=True
        ),
        Column("page_views", "count", "Pages viewed in the session.", nullable=True),
    ),
    unique_key=("session_id",),
    change_key="session_id",
    change_instants=("started_at",),
    change_owner="user_id",
)

MALL_ORDERS = SourceSchema(
    name="mall_orders",
    system="mall",
    entity="orders",
    family="own",
    file_format="csv",
    path_glob="mall/orders/*.csv",
    dated=True,
    description=(
        "Orders created or changed that day. Re-exported on every change: the row with the "
        "latest updated_at is the order's current state."
    ),
    columns=(
        Column("order_id", "id", "Order id."),
        Column("user_id", "id", "Buyer."),
        Column("created_at", "timestamp", "Order creation time."),
        Column("paid_at", "timestamp", "Payment time; empty until paid.", nullable=True),
        Column("status", "enum", "Order status.", allowed=ORDER_STATUSES),
        Column("channel_code", "id", "Channel of the order; empty = unknown.", nullable=True),
        Column("distributor_id", "id", "Distributor credited with the sale.", nullable=True),
        Column("activity_code", "id", "Marketing activity, if any.", nullable=True),
        Column("item_count", "count", "Units in the order."),
        Column("gross_amount", "money", "Price before discounts (CNY)."),
        Column("discount_amount", "money", "Discounts (CNY)."),
        Column("paid_amount", "money", "Amount paid (CNY) = gross − discount when paid."),
        Column("refund_amount", "money", "Cumulative refund (CNY); 0 without one."),
        Column("refunded_at", "timestamp", "Time of the latest refund.", nullable=True),
        Column("updated_at", "timestamp", "Time of this export's change."),
    ),
    row_rules=(
        NotGreaterThan("refund_amount", "paid_amount"),
        NotGreaterThan("discount_amount", "gross_amount"),
        DifferenceEquals("paid_amount", "gross_amount", "discount_amount", when_present="paid_at"),
        PresentWhenPositive("refunded_at", amount="refund_amount"),
    ),
    change_key="order_id",
    change_instants=("created_at", "paid_at", "refunded_at"),
    change_owner="user_id",
)

CHANNELS = SourceSchema(
    name="channels_registry",
    system="channels",
    entity="registry",
    family="own",
    file_format="csv",
    path_glob="channels/channels.csv",
    dated=False,
    description="Channel registry (whole file, replaced when changed).",
    columns=(
        Column("channel_code", "id", "Channel code."),
        Column("channel_name", "text", "Display name.", nullable=True),
        Column("platform", "text", "Platform, e.g. wechat_group, kol, douyin.", nullable=True),
        Column("launched_on", "date", "Launch date.", nullable=True),
    ),
    unique_key=("channel_code",),
    unique_scope="file",
)

CHANNEL_SPEND = SourceSchema(
    name="channels_spend",
    system="channels",
    entity="spend",
    family="own",
    file_format="csv",
    path_glob="channels/spend/*.csv",
    dated=True,
    description="Daily spend per channel; (date, channel_code) is unique.",
    columns=(
        Column("date", "date", "Day of the spend."),
        Column("channel_code", "id", "Channel."),
        Column("spend", "money", "Spend (CNY)."),
        Column("impressions", "count", "Impressions.", nullable=True),
        Column("clicks", "count", "Clicks.", nullable=True),
    ),
    unique_key=("date", "channel_code"),
    row_rules=(NotGreaterThan("clicks", "impressions"),),
)

DISTRIBUTOR_ROSTER = SourceSchema(
    name="distributors_roster",
    system="distributors",
    entity="roster",
    family="own",
    file_format="csv",
    path_glob="distributors/roster/*.csv",
    dated=True,
    description="Full snapshot of all distributors as of the file date.",
    expected_every_days=7,
    columns=(
        Column("distributor_id", "id", "Distributor id."),
        Column("name", "text", "Distributor name.", nullable=True),
        Column("parent_distributor_id", "id", "Upline distributor.", nullable=True),
        Column("tier", "enum", "Tier.", allowed=DISTRIBUTOR_TIERS, open_enum=True),
        Column("joined_at", "timestamp", "Join time.", nullable=True),
        Column("status", "enum", "Status.", allowed=DISTRIBUTOR_STATUSES),
    ),
    unique_key=("distributor_id",),
    unique_scope="file",
)

COMMISSION_RULES = SourceSchema(
    name="distributors_commission_rules",
    system="distributors",
    entity="commission_rules",
    family="own",
    file_format="csv",
    path_glob="distributors/commission_rules.csv",
    dated=False,
    description="Commission rates by tier and level, with effective dates (whole file).",
    columns=(
        Column("tier", "enum", "Tier the rate is for.", allowed=DISTRIBUTOR_TIERS, open_enum=True),
        Column("level", "enum", "1 = seller, 2 = seller's parent.", allowed=COMMISSION_LEVELS),
        Column("rate", "rate", "Decimal fraction, 0.10 = 10 %."),
        Column("effective_from", "date", "First paid date the rule applies to."),
        Column("effective_to", "date", "Last paid date; empty = open-ended.", nullable=True),
    ),
    row_rules=(NotGreaterThan("effective_from", "effective_to"),),
)

SOURCES: tuple[SourceSchema, ...] = (
    USER_SUMMARY,
    USER_CUMULATE,
    ARTICLE_TOTAL,
    ARTICLE_DETAIL,
    MALL_USERS,
    MALL_VISITS,
    MALL_ORDERS,
    CHANNELS,
    CHANNEL_SPEND,
    DISTRIBUTOR_ROSTER,
    COMMISSION_RULES,
)


def source_named(name: str) -> SourceSchema:
    """The source whose raw table is `name`."""
    for source in SOURCES:
        if source.name == name:
            return source
    raise KeyError(f"no landing source is named {name!r}")
