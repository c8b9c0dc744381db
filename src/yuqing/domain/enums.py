"""Closed value sets of the public contract (SPEC 5): platform, media tier, grade, unit level."""

from enum import StrEnum


class Platform(StrEnum):
    """Where an item was published (SPEC 3.1)."""

    NEWS = "news"
    FORUM = "forum"
    TIEBA = "tieba"
    BLOG = "blog"
    WEIBO = "weibo"
    WECHAT = "wechat"
    VIDEO = "video"
    COMPLAINT = "complaint"
    PRINT = "print"
    BROADCAST = "broadcast"
    OTHER = "other"


class MediaTier(StrEnum):
    """How far a publisher's voice carries; harmful grading looks at it (SPEC 2.1)."""

    NATIONAL = "national"
    FOREIGN = "foreign"
    PORTAL = "portal"
    PROVINCIAL = "provincial"
    LOCAL = "local"
    POPULAR_FORUM = "popular_forum"
    SELF_MEDIA = "self_media"
    OTHER = "other"


class GradeCode(StrEnum):
    """The five grades of SPEC 2.1, best to worst."""

    POSITIVE = "positive"
    GENERAL = "general"
    ATTENTION = "attention"
    HARMFUL = "harmful"
    DANGEROUS = "dangerous"


class UnitLevel(StrEnum):
    """Levels of the unit tree; deadlines of daily reports depend on them (SPEC 2.5)."""

    HEAD = "head"
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    BRANCH = "branch"
    DEPARTMENT = "department"
