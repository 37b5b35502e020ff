"""What the follow-up desk and the complaints desk share: the seeds' problem classes as a choice, a deadline as the
time left ("5 h 12 min left", red once passed), and the colours of a complaint's status."""

from __future__ import annotations

from datetime import datetime, timedelta

from nicegui import ui

from shopfloor.domain.aftersales import ComplaintStatus, ImportantReason, ProblemClass
from shopfloor.i18n import Translator
from shopfloor.kiosk.common.attributes import set_attrs

CLASS_ICONS = {ProblemClass.FACILITIES: "chair", ProblemClass.ATTITUDE: "sentiment_dissatisfied",
               ProblemClass.WORKMANSHIP: "build", ProblemClass.PROCESS: "account_tree",
               ProblemClass.PRICE: "payments", ProblemClass.OTHER: "more_horiz"}
STATUS_COLOURS = {ComplaintStatus.OPEN: "negative", ComplaintStatus.ACKNOWLEDGED: "orange-9",
                  ComplaintStatus.INVESTIGATED: "primary", ComplaintStatus.RESOLVED: "teal",
                  ComplaintStatus.CLOSED: "grey-7"}
TEXT_MAX = 1000


def class_options(t: Translator) -> dict[str, str]:
    return {c.value: t(f"complaints.page.class.{c.value}") for c in ProblemClass}


def reason_options(t: Translator) -> dict[str, str]:
    return {r.value: t(f"complaints.page.reason.{r.value}") for r in ImportantReason}


def class_picker(t: Translator, marker: str) -> ui.toggle:
    """The six classes as big buttons in two rows' width: a tablet's finger, not a drop-down."""
    return ui.toggle(class_options(t), value=None).props("no-caps spread toggle-color=negative") \
        .classes("w-full text-base").mark(marker)


def duration(t: Translator, minutes: int) -> str:
    """"23 小时 59 分" / "23 h 59 min": hours and minutes in words, never "23:59" (read as a time of day)."""
    if minutes < 60:
        return t("complaints.page.minutes_only", minutes=minutes)
    return t("complaints.page.hours_minutes", hours=minutes // 60, minutes=minutes % 60)


def left(t: Translator, deadline: datetime, now: datetime) -> tuple[str, bool]:
    """The time left to a deadline, or how long it has been passed; and whether it has."""
    delta = deadline - now
    over = delta < timedelta(0)
    text = duration(t, int(abs(delta).total_seconds() // 60))
    return (t("complaints.page.overdue_by", time=text) if over else t("complaints.page.left", time=text)), over


class Countdown:
    """A deadline counting down on the page: redrawn by the page's timer (every few seconds is plenty for minutes)."""

    def __init__(self, t: Translator, title: str, deadline: datetime, marker: str) -> None:
        """`marker`: "acknowledge-left-12": also marked by its kind ("acknowledge-left")."""
        self.t = t
        self.deadline = deadline
        with ui.column().classes("gap-0 items-start"):
            ui.label(title).classes("text-xs text-grey-7")
            self.label = ui.label("").classes("text-lg font-bold tabular-nums").mark(marker.rsplit("-", 1)[0], marker)
        set_attrs(self.label, data_deadline=deadline.isoformat())

    def tick(self, now: datetime) -> None:
        text, over = left(self.t, self.deadline, now)
        if self.label.text != text:
            self.label.text = text
            self.label.classes(remove="text-negative text-grey-9", add="text-negative" if over else "text-grey-9")
