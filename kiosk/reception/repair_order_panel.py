"""One repair order on the kiosk: its details, the moves the state machine allows, reprint, history.

Read first (`load`, awaiting the database), then drawn in one go (`render`, no await): a page that is asked
to show the order twice at once (a move's own callback and the bus update the move caused) keeps the later
reading and draws it once, instead of two half-drawn copies in one panel."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nicegui import ui

from shopfloor.contract import topics
from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import DomainError
from shopfloor.domain.states import HoldReason, RoStatus, next_moves
from shopfloor.i18n import Translator
from shopfloor.kiosk.common import frame
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.common.formatting import when
from shopfloor.kiosk.common.session import KioskUser
from shopfloor.kiosk.reception.advisor_panel import AdvisorActions
from shopfloor.kiosk.reception.messages_panel import MessagesPanel

if TYPE_CHECKING:
    from shopfloor.kiosk.reception.page import KioskPage
    from shopfloor.services.printing import PrintJobInfo
    from shopfloor.services.repair_orders import HistoryEntry

STATUS_COLOURS = {
    "checked_in": "blue-grey", "dispatched": "indigo", "in_progress": "primary", "on_hold": "orange",
    "quality_check": "purple", "ready": "positive", "delivered": "grey", "cancelled": "grey",
}
ACTIVE = {"dispatched", "in_progress", "on_hold", "quality_check"}
MOVE_ICONS = {
    "dispatched": "engineering", "in_progress": "build", "on_hold": "pause_circle", "quality_check": "fact_check",
    "ready": "local_car_wash", "delivered": "key", "cancelled": "cancel",
}


def status_chip(t: Translator, status: str) -> None:
    set_attrs(ui.badge(t(f"status.{status}"), color=STATUS_COLOURS.get(status, "grey"))
              .classes("text-base px-3 py-1"), data_status=status)


@dataclass(frozen=True)
class LoadedOrder:
    """What the panel shows, read before anything is drawn; `error` when the order could not be read."""

    ro: dict[str, Any] | None
    history: list[HistoryEntry] = field(default_factory=list)
    jobs: list[PrintJobInfo] = field(default_factory=list)
    error: str | None = None
    findings: list[Any] = field(default_factory=list)
    comeback_of: str | None = None
    phone: str | None = None  # the customer's, read when the order is at risk or late: call them
    messages: list[Any] = field(default_factory=list)  # to the customer about it, with their delivery state


class RepairOrderPanel:
    def __init__(self, page: KioskPage, t: Translator, user: KioskUser, on_change: Callable[[str], Awaitable[None]]):
        self.page = page
        self.t = t
        self.user = user
        self.on_change = on_change
        self.actions = AdvisorActions(page.workshop, page.comebacks, page.clock, t, user, on_change) \
            if page.workshop is not None else None

    async def load(self, number: str) -> LoadedOrder:
        # the messages are read beside the rest (a thread of their own), not after it
        reading_messages = asyncio.ensure_future(MessagesPanel.load(self.page.messages, self.user, number))
        try:
            ro = await io(self.page.repair_orders.get, number)
            history = await io(self.page.repair_orders.history, number)
            jobs = await io(self.page.printing.jobs_for, number)
            findings = await io(self.page.workshop.additional_work.for_order, number) if self.page.workshop else []
            comeback = await io(self.page.comebacks.comeback_of, number) if self.page.comebacks else None
            phone = None
            if ro.get("risk") in ("at_risk", "late") and self.page.customers is not None:
                found = await io(self.page.customers.search, ro["plate"], 1)
                phone = found[0]["phone"] if found and found[0]["plate"] == ro["plate"] else None
            messages = await reading_messages
        except DomainError as exc:
            reading_messages.cancel()
            return LoadedOrder(None, error=exc.message(self.t.lang))
        return LoadedOrder(ro, history, jobs, findings=findings, comeback_of=comeback, phone=phone, messages=messages)

    def render(self, loaded: LoadedOrder) -> int:
        """Draw the order in the current container; returns the version shown, so the page can tell when it is
        out of date."""
        t = self.t
        ro, history, jobs = loaded.ro, loaded.history, loaded.jobs
        if ro is None:
            ui.label(loaded.error or "").classes("text-negative text-lg")
            return 0
        with ui.card().classes("w-full").props("flat bordered data-testid=ro-panel").mark("ro-panel"):
            with ui.row().classes("w-full items-center justify-between"):
                with ui.column().classes("gap-0"):
                    ui.label(ro["number"]).classes("text-sm text-grey-7").mark("ro-number")
                    ui.label(ro["plate_display"]).classes("text-3xl font-bold")
                    ui.label(f"{ro['customer']} · {ro['vehicle_model']}").classes("text-grey-8")
                with ui.column().classes("items-end gap-1"):
                    status_chip(t, ro["status"])
                    if ro["hold_reason"]:
                        ui.label(t(f"hold.{ro['hold_reason']}")).classes("text-orange-9")
                    promised = when(ro["promised_at"], self.page.clock.today())
                    ui.label(t("kiosk.promised_at", time=promised)).classes("text-lg")
                    if ro["technician"]:
                        ui.label(t("kiosk.technician_is", name=ro["technician"]["name"]))
                    if self.actions is not None:
                        self.actions.comeback(ro, loaded.comeback_of)
                        self.actions.carry_over(ro)
            with ui.row().classes("w-full gap-6 no-wrap"):
                with ui.column().classes("w-1/2 gap-1"):
                    for line in ro["job_lines"]:
                        with ui.row().classes("gap-2 items-center no-wrap"):
                            ui.label(f"• {line['description']} · {line['hours']:g} h")
                            parts = line.get("parts_status") or "none"
                            if parts != "none":  # the advisor tells the customer when the part comes
                                eta = line.get("parts_eta")
                                text = t(f"parts.status.{parts}") + (f" {eta[5:]}" if eta and parts == "back_order"
                                                                     else "")
                                ui.badge(text, color="orange-8" if parts == "back_order" else "grey-6") \
                                    .props("outline").mark("line-parts")
                    ui.label(t("kiosk.total_hours", hours=f"{ro['total_hours']:g}")).classes("font-bold")
                with ui.column().classes("w-1/2 gap-1"):
                    if ro.get("complaint"):
                        ui.label(t("kiosk.complaint")).classes("text-xs text-grey-7")
                        ui.label(f"“{ro['complaint']}”").classes("italic")
                    facts = []
                    if ro.get("mileage_km") is not None:
                        facts.append(f"{t('kiosk.mileage')} {ro['mileage_km']:,} km")
                    if ro.get("fuel_eighths") is not None:
                        fuel = ro["fuel_eighths"]
                        facts.append(f"{t('kiosk.fuel')} {t(f'fuel.e{fuel}') if fuel % 2 == 0 else f'{fuel}/8'}")
                    if facts:
                        ui.label(" · ".join(facts)).classes("text-sm text-grey-8")
        if self.user.may(Permission.RECEPTION):  # reception's steps 3–5 on the tablet, each a page of its own
            with ui.row().classes("w-full gap-3 pt-1").mark("reception-steps"):
                ui.button(t("nav.walkaround"), icon="directions_car",
                          on_click=lambda: ui.navigate.to(f"/kiosk/walkaround/{ro['number']}")) \
                    .props("outline size=lg data-testid=open-walkaround").mark("open-walkaround")
                ui.button(t("nav.estimate"), icon="request_quote",
                          on_click=lambda: ui.navigate.to(f"/kiosk/estimate/{ro['number']}")) \
                    .props("outline size=lg data-testid=open-estimate").mark("open-estimate")
        if self.actions is not None:
            self.actions.risk_banner(ro, loaded.phone)
            self.actions.findings(loaded.findings)
        if self.user.may(Permission.REPAIR_ORDER_MOVE):
            self._moves(ro)
        else:
            ui.label(t("access.moves", roles=frame.roles_with(t, Permission.REPAIR_ORDER_MOVE))) \
                .classes("text-grey-7 py-2").mark("moves-not-allowed")
        with ui.row().classes("w-full gap-6 no-wrap items-start"):
            with ui.column().classes("w-1/2"):
                ui.label(t("kiosk.history")).classes("text-grey-8")
                for h in history:
                    who = f"{h.at.astimezone(self.page.clock.tz):%H:%M} {h.actor}"
                    what = t("kiosk.rework") if h.kind == "rework" else t(f"status.{h.to_status}") if h.to_status \
                        else h.kind
                    extra = f" → {h.technician}" if h.technician else ""
                    extra += f" ({t('hold.' + h.reason) if h.to_status == 'on_hold' else h.reason})" if h.reason else ""
                    ui.label(f"{who} · {what}{extra}").classes("text-sm")
            with ui.column().classes("w-1/2"):
                ui.label(t("kiosk.tickets")).classes("text-grey-8")
                may_print = self.user.may(Permission.TICKET_PRINT)
                printers = self.page.printers
                if may_print:
                    with ui.row().classes("items-center"):
                        target = printers.select(t)
                else:
                    ui.label(t("access.printing", roles=frame.roles_with(t, Permission.TICKET_PRINT))) \
                        .classes("text-grey-7").mark("printing-not-allowed")
                for job in jobs:
                    text = f"#{job.id} {printers.label(job.printer)} · {t('print.' + job.status)}"
                    with ui.row().classes("items-center gap-2"):
                        ui.label(text + (" · REPRINT" if job.reprint else "")).classes("text-sm")
                        if job.status == "pending" and may_print:
                            ui.button(t("kiosk.send_elsewhere"), icon="alt_route",
                                      on_click=lambda j=job: self._redirect(j.id, ro["number"], target.value)) \
                                .props("dense outline")
                if may_print:
                    ui.button(t("kiosk.reprint"), icon="print",
                              on_click=lambda: self._reprint(ro["number"], target.value)) \
                        .props("outline").mark("reprint")
        if self.page.messages is not None:
            MessagesPanel(self.page.messages, t, self.user, self.page.clock, self.on_change) \
                .render(ro["number"], loaded.messages)
        return int(ro["version"])

    def _moves(self, ro: dict[str, Any]) -> None:
        with ui.row().classes("w-full gap-3 py-2").props("data-testid=ro-moves").mark("moves"):
            for target in next_moves(RoStatus(ro["status"])):
                if target == RoStatus.DELIVERED:
                    self._to_delivery_desk(ro["number"])
                    continue
                if target == RoStatus.DISPATCHED and ro["status"] == RoStatus.DISPATCHED:
                    label = self.t("kiosk.redispatch")
                elif target == RoStatus.IN_PROGRESS and ro["status"] == RoStatus.QUALITY_CHECK:
                    label = self.t("kiosk.rework")
                else:
                    label = self.t(f"kiosk.move_{target.value}")
                colour = "negative" if target == RoStatus.CANCELLED else "primary"
                button = ui.button(label, icon=MOVE_ICONS.get(target.value),
                                   on_click=lambda tgt=target: self._ask(ro, tgt)) \
                    .props("size=lg unelevated" if target != RoStatus.CANCELLED else "size=lg outline") \
                    .mark(f"move-{target.value}")
                set_attrs(button, color=colour, data_testid=f"move-{target.value}")

    def _to_delivery_desk(self, number: str) -> None:
        """Delivered is walked at the delivery desk (the completion check, the customer told, the walk, the sheet),
        not moved in one tap here; who may not deliver there gets no button."""
        if not self.user.may(Permission.DELIVERY):
            return
        button = ui.button(self.t("delivery.kiosk.open_desk"), icon=MOVE_ICONS["delivered"],
                           on_click=lambda: ui.navigate.to(f"/delivery/{number}")) \
            .props("size=lg unelevated").mark("move-delivered")
        set_attrs(button, color="primary", data_testid="move-delivered")

    async def _ask(self, ro: dict[str, Any], target: RoStatus) -> None:
        t = self.t
        if not frame.allowed(t, self.user, Permission.REPAIR_ORDER_MOVE):
            return
        if target == RoStatus.DISPATCHED:
            techs = await io(self.page.repair_orders.technicians)
            needs_repair = any(line["skill"] == "repair" for line in ro["job_lines"])
            # What the progress board shows: how many open jobs each technician already has.
            load: dict[str, int] = {}
            for state in self.page.store.states(topics.REPAIR_ORDERS).values():
                if state.get("technician") and state["status"] in ACTIVE:
                    load[state["technician"]["name"]] = load.get(state["technician"]["name"], 0) + 1
            options = {x["id"]: f"{x['name']} · {t('skill.' + x['skill'])} · "
                                f"{t('kiosk.open_jobs', count=load.get(x['name'], 0))}" for x in techs
                       if not needs_repair or x["skill"] == "repair"}
            if self.actions is not None and ro["job_lines"]:
                # the lines go to the technician through the dispatch the API uses: a rule it breaks (absent,
                # skill, promise) is refused with the reason and needs a typed override, as there
                chosen = await self._choose(t("kiosk.choose_technician"), options)
                if chosen is not None and frame.allowed(t, self.user, Permission.REPAIR_ORDER_MOVE) \
                        and await self.actions.dispatch(ro["number"], chosen):
                    ui.notify(t("kiosk.moved", number=ro["number"], status=t("status.dispatched")), type="positive")
                    await self.on_change(ro["number"])
                return
            await self._dialog(ro, target, t("kiosk.choose_technician"), options, "technician")
        elif target == RoStatus.ON_HOLD:
            options = {r.value: t(f"hold.{r.value}") for r in HoldReason}
            await self._dialog(ro, target, t("kiosk.choose_hold_reason"), options, "reason")
        elif target == RoStatus.CANCELLED:
            await self._dialog(ro, target, t("kiosk.cancel_reason"), None, "reason")
        else:
            await self._move(ro["number"], target.value)

    async def _choose(self, title: str, options: dict[Any, str]) -> Any:
        with ui.dialog() as dialog, ui.card().classes("w-[36rem]"):
            ui.label(title).classes("text-xl")
            choice = ui.radio(options).props("size=lg").classes("text-lg")
            with ui.row().classes("w-full justify-end"):
                ui.button(self.t("kiosk.back"), on_click=dialog.close).props("flat")
                ui.button(self.t("kiosk.confirm"), on_click=lambda: dialog.submit(choice.value)) \
                    .props("unelevated").mark("dialog-confirm")
        return await dialog

    async def _dialog(self, ro: dict[str, Any], target: RoStatus, title: str, options: dict[Any, str] | None,
                      field: str) -> None:
        with ui.dialog() as dialog, ui.card().classes("w-[36rem]"):
            ui.label(title).classes("text-xl")
            if options is None:
                choice: Any = ui.input().props("outlined autofocus").classes("w-full")
            else:
                choice = ui.radio(options).props("size=lg").classes("text-lg")
            missing = ui.label("").classes("text-negative")

            def submit() -> None:
                value = choice.value.strip() if isinstance(choice.value, str) else choice.value
                if value in (None, ""):
                    missing.text = self.t("error.cancel_needs_reason" if options is None else "error.choice_needed")
                    return
                dialog.submit(value)

            with ui.row().classes("w-full justify-end"):
                ui.button(self.t("kiosk.back"), on_click=dialog.close).props("flat")
                ui.button(self.t("kiosk.confirm"), on_click=submit).props("unelevated").mark("dialog-confirm")
        value = await dialog
        if value is None:
            return
        await self._move(ro["number"], target.value, **{field: value})

    async def _move(self, number: str, target: str, technician: int | None = None, reason: str | None = None) -> None:
        if not frame.allowed(self.t, self.user, Permission.REPAIR_ORDER_MOVE):
            return
        try:
            await io(self.page.repair_orders.transition, number, target, actor=self.user.actor,
                     technician=technician, reason=reason)
        except DomainError as exc:
            ui.notify(exc.message(self.t.lang), type="negative", multi_line=True)
            return
        ui.notify(self.t("kiosk.moved", number=number, status=self.t(f"status.{target}")), type="positive")
        await self.on_change(number)

    async def _redirect(self, job_id: int, number: str, printer: str) -> None:
        if not frame.allowed(self.t, self.user, Permission.TICKET_PRINT):
            return
        try:
            await io(self.page.printing.redirect, job_id, printer, actor=self.user.actor)
        except DomainError as exc:
            ui.notify(exc.message(self.t.lang), type="negative")
            return
        ui.notify(self.t("kiosk.sent_elsewhere", number=number), type="positive")
        await self.on_change(number)

    async def _reprint(self, number: str, printer: str) -> None:
        if not frame.allowed(self.t, self.user, Permission.TICKET_PRINT):
            return
        try:
            await io(self.page.printing.print_ticket, number, printer, actor=self.user.actor, reprint=True)
        except DomainError as exc:
            ui.notify(exc.message(self.t.lang), type="negative")
            return
        ui.notify(self.t("kiosk.reprinted", number=number), type="positive")
        await self.on_change(number)
