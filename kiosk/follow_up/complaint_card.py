"""One complaint on /complaints: what it is about (class, a workmanship complaint marked as a comeback, severity and
why important), the order and the customer, who owns it and its status, the two deadlines counting down, and — for
who handles complaints — the next step: an owner, acknowledge, the findings, the resolution."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.domain.aftersales import ComplaintStatus, ProblemClass, Severity
from shopfloor.kiosk.calls.common import call, phone_link
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.follow_up.common import CLASS_ICONS, STATUS_COLOURS, TEXT_MAX, Countdown

if TYPE_CHECKING:
    from shopfloor.clock import SiteClock
    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.session import KioskUser
    from shopfloor.services.aftercare.complaints import ComplaintService, ComplaintView


class ComplaintCard:
    def __init__(self, row: ComplaintView, t: Translator, user: KioskUser, service: ComplaintService,
                 staff: dict[int, str], handles: bool, clock: SiteClock, *, home: ui.element,
                 on_done: Callable[[], Awaitable[None]]) -> None:
        self.row = row
        self.t = t
        self.user = user
        self.service = service
        self.clock = clock
        self.on_done = on_done
        self.home = home  # where its dialogs go: outside the list, which the bus redraws while one is open
        self.countdowns: list[Countdown] = []
        important = row.severity == Severity.IMPORTANT.value
        card = ui.card().classes("w-full py-2 px-3").props("flat bordered") \
            .mark("complaint", f"complaint-{row.id}")
        set_attrs(card, data_status=row.status, data_severity=row.severity)
        if important and row.status != ComplaintStatus.CLOSED.value:
            card.classes("border-l-8 border-negative")
        tz = clock.tz
        with card, ui.row().classes("w-full items-start no-wrap gap-3"):
            with ui.column().classes("gap-1 w-60 shrink-0"):
                with ui.row().classes("items-center gap-1"):
                    ui.label(f"#{row.id}").classes("text-lg font-bold")
                    ui.badge(t(f"complaints.page.status.{row.status}"),
                             color=STATUS_COLOURS.get(ComplaintStatus(row.status), "grey")).classes("text-sm") \
                        .mark("complaint-status")
                    if important:
                        reason = t(f"complaints.page.reason.{row.important_because}") if row.important_because \
                            else ""
                        ui.badge(t("complaints.page.important") + (f" · {reason}" if reason else ""),
                                 color="negative").classes("text-sm").mark("important")
                with ui.row().classes("items-center gap-1"):
                    ui.icon(CLASS_ICONS.get(ProblemClass(row.problem_class), "help"), size="sm") \
                        .classes("text-grey-8")
                    ui.label(t(f"complaints.page.class.{row.problem_class}")).classes("text-base")
                    if row.problem_class == ProblemClass.WORKMANSHIP.value and row.repair_order:
                        ui.badge(t("complaints.page.comeback"), color="deep-orange-8").classes("text-sm") \
                            .mark("comeback", f"comeback-{row.id}")
                if row.plate or row.repair_order:
                    ui.label(" · ".join(x for x in (row.plate, row.repair_order) if x)) \
                        .classes("font-mono text-grey-9")
                if row.customer:
                    with ui.row().classes("items-center gap-2 no-wrap"):
                        ui.label(row.customer)
                        phone_link(row.phone or "")
            with ui.column().classes("gap-1 grow min-w-0"):
                ui.label(row.text).classes("text-base line-clamp-3 whitespace-pre-wrap").mark("complaint-text")
                ui.label(t("complaints.page.opened", who=row.opened_by, source=t(f"complaints.page.source."
                                                                                     f"{row.source}"),
                           when=f"{row.opened_at.astimezone(tz):%m-%d %H:%M}")).classes("text-sm text-grey-7")
                if row.findings:
                    ui.label(t("complaints.page.findings_are", text=row.findings)).classes("text-sm") \
                        .mark("findings")
                if row.resolution:
                    ui.label(t("complaints.page.resolution_is", text=row.resolution)).classes("text-sm") \
                        .mark("resolution")
            with ui.column().classes("gap-1 w-40 shrink-0"):
                owner = ui.label(t("complaints.page.owner", name=row.owner or t("complaints.page.nobody"))) \
                    .classes("text-sm font-bold").mark("owner")
                if row.owner is None and row.status != ComplaintStatus.CLOSED.value:
                    owner.classes("text-negative").mark("owner", "unowned")  # nobody answers for it yet
                if row.acknowledged_at is None and row.status == ComplaintStatus.OPEN.value:
                    self.countdowns.append(Countdown(t, t("complaints.page.acknowledge_by", time=_hm(
                        row.acknowledge_by, clock)), row.acknowledge_by, f"acknowledge-left-{row.id}"))
                if row.investigated_at is None and row.status in (ComplaintStatus.OPEN.value,
                                                                  ComplaintStatus.ACKNOWLEDGED.value):
                    self.countdowns.append(Countdown(t, t("complaints.page.investigate_by", time=_hm(
                        row.investigate_by, clock)), row.investigate_by, f"investigate-left-{row.id}"))
            if handles and row.status not in (ComplaintStatus.RESOLVED.value, ComplaintStatus.CLOSED.value):
                with ui.column().classes("gap-2 w-44 shrink-0 items-stretch"):
                    self.owner = ui.select(staff, value=row.owner_id, label=t("complaints.page.assign"),
                                           on_change=self._assign).props("outlined dense") \
                        .mark("assign", f"assign-{row.id}")
                    self._next_step()
            elif row.status == ComplaintStatus.RESOLVED.value:
                ui.label(t("complaints.page.second_call")).classes("text-sm text-teal w-44 shrink-0")
            else:  # the actions' width kept: the deadlines stay in one column down the list
                ui.element("div").classes("w-44 shrink-0")

    def tick(self, now: datetime) -> None:
        for countdown in self.countdowns:
            countdown.tick(now)

    def _next_step(self) -> None:
        t, status = self.t, self.row.status
        if status == ComplaintStatus.OPEN.value:
            ui.button(t("complaints.page.acknowledge"), icon="mark_chat_read", on_click=self._acknowledge) \
                .props("unelevated color=orange-9").mark("acknowledge", f"acknowledge-{self.row.id}")
        elif status == ComplaintStatus.ACKNOWLEDGED.value:
            ui.button(t("complaints.page.findings"), icon="search",
                      on_click=lambda: self._write("findings")).props("unelevated") \
                .mark("findings-open", f"findings-open-{self.row.id}")
        elif status == ComplaintStatus.INVESTIGATED.value:
            ui.button(t("complaints.page.resolve"), icon="task_alt",
                      on_click=lambda: self._write("resolution")).props("unelevated color=teal") \
                .mark("resolve-open", f"resolve-open-{self.row.id}")

    async def _assign(self) -> None:
        owner = self.owner.value
        if owner is None or owner == self.row.owner_id:
            return
        if await call(self.t, self.service.assign, self.row.id, int(owner), actor=self.user.actor) is not None:
            ui.notify(self.t("complaints.page.assigned", number=self.row.id, name=self.owner.options[owner]),
                      type="positive")
        await self.on_done()

    async def _acknowledge(self) -> None:
        if await call(self.t, self.service.acknowledge, self.row.id, actor=self.user.actor) is not None:
            ui.notify(self.t("complaints.page.acknowledged", number=self.row.id), type="positive")
        await self.on_done()

    async def _write(self, what: str) -> None:
        """The findings or the resolution, in a dialog: kept there when refused, nothing typed is lost."""
        t = self.t
        if what == "resolution" and self.row.owner_id is None:  # refused by the service: say so before the typing
            ui.notify(t("complaints.page.assign_first"), type="warning", position="center", classes="text-lg")
            return
        with self.home, ui.dialog() as dialog, \
                ui.card().classes("w-[44rem] max-w-full gap-3").mark(f"{what}-dialog"):
            ui.label(t(f"complaints.page.{what}_title", number=self.row.id)).classes("text-lg font-bold")
            ui.label(self.row.text).classes("text-grey-8 whitespace-pre-wrap")
            text = ui.textarea(t(f"complaints.page.{what}_field")) \
                .props(f"outlined autogrow autofocus maxlength={TEXT_MAX}").classes("w-full").mark(f"{what}-text")

            async def save() -> None:
                fn = self.service.investigate if what == "findings" else self.service.resolve
                if await call(t, fn, self.row.id, (text.value or "").strip(), actor=self.user.actor) is not None:
                    ui.notify(t(f"complaints.page.{what}_saved", number=self.row.id), type="positive")
                    dialog.submit(True)

            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(t("complaints.page.back"), on_click=lambda: dialog.submit(False)).props("flat")
                ui.button(t("complaints.page.save"), icon="save", on_click=save).props("unelevated") \
                    .mark(f"{what}-save")
        saved = await dialog
        dialog.delete()
        if saved:
            await self.on_done()


def _hm(moment: datetime, clock: SiteClock) -> str:
    local = moment.astimezone(clock.tz)
    return f"{local:%H:%M}" if local.date() == clock.today() else f"{local:%m-%d %H:%M}"
