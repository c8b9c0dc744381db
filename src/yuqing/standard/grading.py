"""The grading rules file (`grading.yaml`): signal term lists and rules, validated.

Two properties of the standard are checked here, at load time, so that no edit of the file can
break them: a rule that grants a negative grade names a negative-content condition (spread alone
never turns an item negative), and spread appears only as "at least" thresholds (more spread can
only make more rules fire, never fewer).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from yuqing.domain.enums import GradeCode
from yuqing.standard.models import Keywords, _check_keywords, _check_unique, _Model

SentimentLabel = Literal["negative", "neutral", "positive"]

SPREAD_FIELDS = (
    "views_at_least",
    "reposts_at_least",
    "comments_at_least",
    "likes_at_least",
    "engagement_at_least",
    "sites_at_least",
    "story_items_at_least",
    "institutions_at_least",
    "regions_at_least",
    "media_reach_at_least",
)


class Signal(_Model):
    """A named term list the grader looks for (危机词, 恶意攻击词 …)."""

    name: str = Field(min_length=1)
    terms: Keywords = Field(min_length=1)
    exclude: Keywords = Field(
        default=(),
        description="Benign phrases (少跑路): a term found only inside one of them does not count.",
    )

    @field_validator("terms", "exclude")
    @classmethod
    def _terms(cls, value: Keywords) -> Keywords:
        return _check_keywords(value) if value else value

    @model_validator(mode="after")
    def _excludes_contain_terms(self) -> Signal:
        for phrase in self.exclude:
            if not any(term in phrase for term in self.terms):
                raise ValueError(f"排除语境「{phrase}」不含本词表的任何词条，起不到排除作用")
        return self


class Condition(_Model):
    """One test on an item's facts; exactly one field is set."""

    sentiment: tuple[SentimentLabel, ...] | None = None
    sentiment_score_at_most: float | None = Field(default=None, ge=-1, le=1)
    rumor: bool | None = None
    rumor_score_at_least: float | None = Field(default=None, ge=0, le=1)
    offensive: bool | None = None
    harm: Literal["any"] | tuple[str, ...] | None = None
    harm_illegal: bool | None = None
    signal: str | None = None
    negative: bool | None = None
    about_subject: bool | None = None
    category: tuple[str, ...] | None = None
    special_period: bool | None = None
    platform: tuple[str, ...] | None = None
    media_tier: tuple[str, ...] | None = None
    views_at_least: int | None = Field(default=None, ge=0)
    reposts_at_least: int | None = Field(default=None, ge=0)
    comments_at_least: int | None = Field(default=None, ge=0)
    likes_at_least: int | None = Field(default=None, ge=0)
    engagement_at_least: int | None = Field(default=None, ge=0)
    sites_at_least: int | None = Field(default=None, ge=0)
    story_items_at_least: int | None = Field(default=None, ge=0)
    institutions_at_least: int | None = Field(default=None, ge=0)
    regions_at_least: int | None = Field(default=None, ge=0)
    media_reach_at_least: int | None = Field(default=None, ge=0)

    @field_validator("sentiment", "category", "platform", "media_tier", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _exactly_one(self) -> Condition:
        if len(self.model_fields_set) != 1:
            raise ValueError("每个条件只能写一个键，例如 {sentiment: negative}")
        return self

    @property
    def key(self) -> str:
        return next(iter(self.model_fields_set))

    @property
    def value(self) -> object:
        return getattr(self, self.key)

    def is_spread(self) -> bool:
        return self.key in SPREAD_FIELDS

    def is_negative_content(self) -> bool:
        """True when the condition can only hold for content with a negative signal."""
        key, value = self.key, self.value
        if key == "sentiment":
            return value == ("negative",)
        if key == "sentiment_score_at_most":
            return isinstance(value, float) and value < 0
        if key in ("rumor", "offensive", "harm_illegal", "negative"):
            return value is True
        return key in ("harm", "signal")


class Rule(_Model):
    """A grading rule: all of `when`, at least one of `any`, at least one of `spread`."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    grade: GradeCode
    text: str = Field(min_length=1)
    when: tuple[Condition, ...] = ()
    any: tuple[Condition, ...] = ()
    spread: tuple[Condition, ...] = ()

    @model_validator(mode="after")
    def _spread_only(self) -> Rule:
        if any(not c.is_spread() for c in self.spread):
            raise ValueError(
                f"规则 {self.id} 的 spread 只能写传播条件（{'、'.join(SPREAD_FIELDS)}）"
            )
        return self

    def has_negative_content(self) -> bool:
        """Whether the rule can only fire for content carrying a negative signal."""
        return any(c.is_negative_content() for c in self.when) or (
            bool(self.any) and all(c.is_negative_content() for c in self.any)
        )

    def conditions(self) -> tuple[Condition, ...]:
        return self.when + self.any + self.spread


class GradingFile(_Model):
    """`grading.yaml`: signal term lists and the ordered rules."""

    signals: dict[str, Signal] = Field(default_factory=dict)
    rules: tuple[Rule, ...] = Field(min_length=1)

    @field_validator("rules")
    @classmethod
    def _unique(cls, value: tuple[Rule, ...]) -> tuple[Rule, ...]:
        _check_unique((rule.id for rule in value), "规则 id ")
        return value

    @model_validator(mode="after")
    def _signals_exist(self) -> GradingFile:
        for rule in self.rules:
            for condition in rule.conditions():
                if condition.signal is not None and condition.signal not in self.signals:
                    known = "、".join(self.signals) or "（无）"
                    raise ValueError(
                        f"规则 {rule.id} 引用了未定义的词表 {condition.signal!r}；已定义：{known}"
                    )
        return self
