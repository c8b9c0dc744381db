"""Alerts (SPEC 3.8): rules pick the items and deadlines that matter, channels carry them.

`AlertDispatcher` follows grade_history and raises one alert per rule, event and grade
(escalations again), then delivers each to the rule's channels with retries; `manage` adds,
edits and removes channels and rules with an audit trail.
"""

from yuqing.alerts.rules import Reminder

__all__ = ["Reminder"]
