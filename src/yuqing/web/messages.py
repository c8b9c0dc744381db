"""The UI's words, in one catalogue so the interface can be translated in one place."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "app.title": "Yuqing 舆情监测",
    "nav.items": "舆情信息",
    "search.placeholder": "检索标题和正文，如：挤兑  银行 -招聘",
    "search.submit": "检索",
    "search.reset": "重置",
    "filter.platform": "平台",
    "filter.media_tier": "媒体级别",
    "filter.subject": "监测主题",
    "filter.since": "起始日期",
    "filter.until": "截止日期",
    "filter.all": "全部",
    "list.total": "共 {total} 条",
    "list.empty": "没有符合条件的信息。",
    "list.prev": "上一页",
    "list.next": "下一页",
    "list.page": "第 {page} / {pages} 页",
    "item.untitled": "（无标题）",
    "item.published": "发布",
    "item.discovered": "发现",
    "item.author": "作者",
    "item.region": "地区",
    "item.source_link": "原文链接",
    "item.story": "同源 {count} 条 / {sites} 个站点",
    "item.story_origin": "首发",
    "item.story_badge": "同源转载",
    "item.sightings": "重复发现 {count} 次",
    "item.subjects": "命中主题",
    "item.content": "正文",
    "item.snapshots": "传播数据变化",
    "item.back": "返回列表",
    "metric.views": "阅读",
    "metric.reposts": "转发",
    "metric.comments": "评论",
    "metric.likes": "点赞",
    "metric.captured_at": "采集时间",
    "error.title": "出错了",
    "error.not_found": "条目 {id} 不存在。",
}


def t(key: str, **values: object) -> str:
    """The message for `key`, formatted; a missing key shows itself so it gets noticed."""
    text = MESSAGES.get(key, key)
    return text.format(**values) if values else text
