"""What the advisor does on an order beyond its moves (kiosk/reception/repair_order_panel.py draws these): the
customer's decision on each pending additional-work finding (price = the site's labour rate × hours + parts, how
the customer decided), the at-risk/late alert with "call the customer" and a new promise, the comeback mark, and a
dispatch refused for a rule (skill, absent, promise) that the advisor may override with a typed reason, as the API
allows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from nicegui import ui

from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import DomainError
from shopfloor.domain.workshop import CarryOverReason, DecisionMethod
from shopfloor.i18n import Translator
from shopfloor.kiosk.common import frame
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.common.session import KioskUser
from shopfloor.services.workshop.dispatch import DispatchRefused

if TYPE_CHECKING:
    from shopfloor.clock import SiteClock
    from shopfloor.services.comebacks import ComebackService, EarlierVisit
    from shopfloor.services.workshop.additional_work import FindingInfo
    from shopfloor.services.workshop.services import WorkshopServices

METHODS = (DecisionMethod.IN_PERSON, DecisionMethod.PHONE, DecisionMethod.SMS, DecisionMethod.WECHAT)
PHOTO_URL = "/photos/"  # served to signed-in staff by the station's photo route


class AdvisorActions:
    def __init__(self, workshop: WorkshopServices, comebacks: ComebackService | None, clock: SiteClock,
                 t: Translator, user: KioskUser, on_change: Callable[[str], Awaitable[None]]) -> None:
        self.workshop, self.comebacks, self.clock = workshop, comebacks, clock
        self.t, self.user, self.on_change = t, user, on_change

    def _time(self, iso: str | None) -> str:
        if not iso:
            return "—"
        local = datetime.fromisoformat(iso).astimezone(self.clock.tz)
        return f"{local:%H:%M}" if local.date() == self.clock.today() else f"{local:%m-%d %H:%M}"

    # -- risk ---------------------------------------------------------------------------------------------------
    def risk_banner(self, ro: dict[str, Any], phone: str | None = None) -> None:
        risk = ro.get("risk") or "on_time"
        if risk == "on_time" or ro["status"] in ("ready", "delivered", "cancelled"):
            return
        t = self.t
        colour = "bg-red-1 text-red-10" if risk == "late" else "bg-amber-1 text-amber-10"
        with set_attrs(ui.card().classes(f"w-full {colour} gap-2").props("flat bordered"), data_risk=risk) \
                .mark("risk-alert"), ui.row().classes("w-full items-center justify-between no-wrap"):
            with ui.row().classes("items-center gap-2 no-wrap"):
                ui.icon("schedule" if risk == "at_risk" else "alarm", size="md")
                with ui.column().classes("gap-0"):
                    ui.label(t(f"advisor.risk.{risk}", projected=self._time(ro.get("projected_ready_at")),
                               promised=self._time(ro.get("promised_at")))).classes("text-lg font-medium")
                    if phone:
                        ui.label(t("advisor.call_customer", phone=phone)).classes("text-base").mark("call-customer")
            if self.user.may(Permission.PROMISE):
                ui.button(t("advisor.new_promise"), icon="update", on_click=lambda: self.promise_dialog(ro)) \
                    .props("unelevated").mark("new-promise")

    async def promise_dialog(self, ro: dict[str, Any]) -> None:
        t = self.t
        start = datetime.fromisoformat(ro.get("projected_ready_at") or ro.get("promised_at") or
                                       self.clock.now().isoformat()).astimezone(self.clock.tz)
        start = max(start, self.clock.now().astimezone(self.clock.tz)) + timedelta(minutes=15)
        with ui.dialog() as dialog, ui.card().classes("w-[36rem] gap-2"):
            ui.label(t("advisor.promise_title")).classes("text-xl")
            with ui.row().classes("w-full no-wrap gap-2"):
                day = ui.input(t("advisor.promise_day"), value=start.date().isoformat()) \
                    .props("outlined type=date").classes("w-1/2").mark("promise-day")
                # a 24-hour HH:MM field, as check-in's: the browser's time input shows AM/PM in some locales
                at = ui.input(t("advisor.promise_time"), value=f"{start:%H}:{start.minute // 15 * 15:02d}") \
                    .props('outlined mask="##:##" inputmode=numeric').classes("w-1/2").mark("promise-time")
            reason = ui.input(t("advisor.promise_reason")).props("outlined").classes("w-full").mark("promise-reason")
            told = ui.checkbox(t("advisor.customer_told"), value=True).mark("promise-told")
            with ui.row().classes("w-full justify-end"):
                ui.button(t("kiosk.back"), on_click=dialog.close).props("flat")
                ui.button(t("kiosk.confirm"), on_click=lambda: dialog.submit(True)).props("unelevated") \
                    .mark("promise-confirm")
        if not await dialog:
            return
        try:
            when = datetime.combine(date.fromisoformat(day.value), time.fromisoformat(at.value), tzinfo=self.clock.tz)
        except (TypeError, ValueError):
            ui.notify(t("advisor.promise_needs_time"), type="warning")
            return
        if not frame.allowed(t, self.user, Permission.PROMISE):
            return
        try:
            await io(self.workshop.promises.promise, ro["number"], when, reason.value or "", actor=self.user.actor,
                     customer_told=bool(told.value))
        except DomainError as exc:
            ui.notify(exc.message(t.lang), type="negative", multi_line=True)
            return
        ui.notify(t("advisor.promise_saved", number=ro["number"], time=f"{when:%m-%d %H:%M}"), type="positive")
        await self.on_change(ro["number"])

    # -- additional work ------------------------------------------------------------------------------------------
    def findings(self, findings: list[FindingInfo]) -> None:
        self.decided(findings)
        pending = [f for f in findings if f.status == "pending"]
        if not pending:
            return
        t = self.t
        with ui.card().classes("w-full bg-amber-1 gap-2").props("flat bordered").mark("findings"):
            ui.label(t("advisor.findings")).classes("text-lg font-bold")
            for f in pending:
                with set_attrs(ui.row().classes("w-full items-center justify-between no-wrap bg-white rounded p-2"),
                               data_finding=f.id):
                    with ui.row().classes("items-center gap-3 no-wrap min-w-0"):
                        photo = getattr(f, "photo", None)
                        if photo:
                            ui.image(PHOTO_URL + str(photo)).classes("w-28 h-20 rounded").mark("finding-photo")
                        with ui.column().classes("gap-0 min-w-0"):
                            ui.label(f"“{f.description}”").classes("text-base font-medium")
                            ui.label(t("advisor.finding_meta", technician=f.technician, hours=f"{f.hours:g}",
                                       labour=f"{f.labour_price:,.0f}", parts=f"{f.parts_price:,.0f}")) \
                                .classes("text-sm text-grey-8")
                            if f.parts:
                                ui.label(t("advisor.parts", parts="、".join(
                                    f"{p.name or p.number}×{p.quantity:g}" for p in f.parts))).classes("text-sm")
                    with ui.row().classes("items-center gap-2 no-wrap"):
                        ui.label(t("advisor.price", price=f"{f.price:,.0f}")).classes("text-xl font-bold")
                        if self.user.may(Permission.ADDITIONAL_WORK_DECIDE):
                            ui.button(t("advisor.approve"), icon="check",
                                      on_click=lambda x=f: self.decide(x, "approved")) \
                                .props("unelevated color=positive").mark(f"approve-{f.id}")
                            ui.button(t("advisor.decline"), icon="close",
                                      on_click=lambda x=f: self.decide(x, "declined")) \
                                .props("outline color=negative").mark(f"decline-{f.id}")

    def decided(self, findings: list[FindingInfo]) -> None:
        """Today's decisions on the order's findings, whoever recorded them: a customer deciding on their own page
        (/c/<token>) shows here as soon as the order's new state arrives."""
        today = self.clock.today()
        done = [f for f in findings if f.status != "pending" and f.decided_at is not None
                and f.decided_at.astimezone(self.clock.tz).date() == today]
        if not done:
            return
        t = self.t
        with ui.column().classes("w-full gap-1").mark("findings-decided"):
            for f in done:
                icon, colour = ("check_circle", "positive") if f.status == "approved" else ("cancel", "negative")
                with set_attrs(ui.row().classes("items-center gap-2 no-wrap"), data_finding_decided=f.id,
                               data_decision=f.status):
                    ui.icon(icon, color=colour)
                    assert f.decided_at is not None
                    ui.label(t("advisor.decided_line", description=f.description,
                               decision=t(f"advisor.decision.{f.status}"),
                               method=t(f"advisor.method.{f.decision_method}"), who=f.decided_by or "",
                               time=f"{f.decided_at.astimezone(self.clock.tz):%H:%M}")).classes("text-sm")

    async def decide(self, finding: FindingInfo, decision: str) -> None:
        t = self.t
        with ui.dialog() as dialog, ui.card().classes("w-[36rem] gap-2"):
            ui.label(f"{finding.description} · {t('advisor.decision.' + decision)}").classes("text-xl")
            ui.label(t("advisor.how")).classes("text-grey-8")
            # no default: how the customer said it is what the record is for, so the advisor picks it each time
            how = ui.radio({m.value: t(f"advisor.method.{m.value}") for m in METHODS},
                           value=None).props("inline size=lg").mark("decision-method")
            note = ui.input(t("advisor.decision_reason")).props("outlined").classes("w-full")
            with ui.row().classes("w-full justify-end"):
                ui.button(t("kiosk.back"), on_click=dialog.close).props("flat")
                ui.button(t("kiosk.confirm"), on_click=lambda: dialog.submit(True)).props("unelevated") \
                    .mark("decision-confirm").bind_enabled_from(how, "value", backward=bool)
        if not await dialog or not frame.allowed(t, self.user, Permission.ADDITIONAL_WORK_DECIDE):
            return
        try:
            await io(self.workshop.additional_work.decide, finding.id, decision, how.value, actor=self.user.actor,
                     reason=note.value or None)
        except DomainError as exc:
            ui.notify(exc.message(t.lang), type="negative", multi_line=True)
            return
        ui.notify(t("advisor.decided", description=finding.description, decision=t(f"advisor.decision.{decision}")),
                  type="positive")
        await self.on_change(finding.repair_order)

    # -- carried over --------------------------------------------------------------------------------------------
    def carry_over(self, ro: dict[str, Any]) -> None:
        """An order carried from an earlier day, or one that will not be done today: why it stays overnight (the
        closing keeps a reason given before it; the figures count carried cars by it)."""
        projected = ro.get("projected_ready_at")
        tonight = projected is not None and datetime.fromisoformat(projected).astimezone(self.clock.tz).date() > \
            self.clock.today()
        if not self.user.may(Permission.REPAIR_ORDER_MOVE):
            return
        today = self.clock.today()
        into_today = [c for c in self.workshop.carry_over.carried(today) if c.number == ro["number"]]
        into_tomorrow = [c for c in self.workshop.carry_over.carried(today + timedelta(days=1))
                         if c.number == ro["number"]]
        carried = bool(into_today)
        if not (carried or tonight or into_tomorrow):
            return
        t = self.t
        rows = into_tomorrow or into_today
        options = {r.value: t(f"workshop.carry_over.{r.value}") for r in CarryOverReason}

        async def chosen(value: str | None) -> None:
            if not value:
                return
            try:
                await io(self.workshop.carry_over.set_reason, ro["number"], value, actor=self.user.actor)
            except DomainError as exc:
                ui.notify(exc.message(t.lang), type="negative")
                return
            ui.notify(t("carry.saved", reason=options[value]), type="positive")

        with ui.row().classes("items-center gap-2 no-wrap"):
            ui.label(t("carry.carried" if carried else "carry.overnight")).classes("text-sm text-grey-8")
            ui.select(options, value=rows[0].reason if rows else None, label=t("carry.reason"),
                      on_change=lambda e: chosen(e.value)).props("dense outlined options-dense") \
                .classes("min-w-[9rem]").mark("carry-over-reason")

    # -- comeback -------------------------------------------------------------------------------------------------
    def comeback(self, ro: dict[str, Any], marked: str | None) -> None:
        if self.comebacks is None:
            return
        t = self.t
        with ui.row().classes("items-center gap-2"):
            if marked:
                ui.badge(t("comeback.marked", number=marked), color="deep-orange").classes("text-sm px-2") \
                    .mark("comeback-marked")
            if self.user.may(Permission.RECEPTION):
                ui.button(t("comeback.mark_by_hand"), icon="replay",
                          on_click=lambda: self.comeback_dialog(ro, marked)) \
                    .props("flat dense").mark("comeback-by-hand")

    async def comeback_dialog(self, ro: dict[str, Any], marked: str | None) -> None:
        assert self.comebacks is not None
        t = self.t
        visits: list[EarlierVisit] = await io(self.comebacks.earlier_visits, ro["number"])
        with ui.dialog() as dialog, ui.card().classes("w-[40rem] gap-2"):
            ui.label(t("comeback.choose")).classes("text-xl")
            if not visits:
                ui.label(t("comeback.none_earlier")).classes("text-grey-7")
            options = {"": t("comeback.unmark")}
            for v in visits:
                delivered = v.delivered_at.astimezone(self.clock.tz)
                options[v.number] = f"{v.number} · {delivered:%Y-%m-%d} · {', '.join(v.work) or v.complaint}"
            choice = ui.radio(options, value=marked or "").mark("comeback-choice")
            with ui.row().classes("w-full justify-end"):
                ui.button(t("kiosk.back"), on_click=dialog.close).props("flat")
                ui.button(t("kiosk.confirm"), on_click=lambda: dialog.submit(True)).props("unelevated") \
                    .mark("comeback-confirm")
        if not await dialog or not frame.allowed(t, self.user, Permission.RECEPTION):
            return
        try:
            await io(self.comebacks.mark, ro["number"], choice.value or None, actor=self.user.actor)
        except DomainError as exc:
            ui.notify(exc.message(t.lang), type="negative", multi_line=True)
            return
        ui.notify(t("comeback.saved", number=ro["number"]), type="positive")
        await self.on_change(ro["number"])

    # -- dispatch with the API's refusal and override ---------------------------------------------------------------
    async def dispatch(self, number: str, technician: int) -> bool:
        """Dispatch the order's lines; a rule broken (skill, absent, promise) is shown with its reason and may be
        overridden with a typed reason, logged as the API's override is. True when dispatched."""
        t = self.t
        override: str | None = None
        while True:
            try:
                await io(self.workshop.dispatch.dispatch, number, technician, actor=self.user.actor,
                         override=override)
                return True
            except DispatchRefused as refused:
                if override is not None:
                    raise
                override = await self._ask_override(refused)
                if override is None:
                    return False
            except DomainError as exc:
                ui.notify(exc.message(t.lang), type="negative", multi_line=True)
                return False

    async def _ask_override(self, refused: DispatchRefused) -> str | None:
        t = self.t
        with ui.dialog() as dialog, ui.card().classes("w-[36rem] gap-2").mark("dispatch-refused"):
            for broken in refused.violations:
                set_attrs(ui.label(t(broken.key, **broken.params)).classes("text-lg text-negative"),
                          data_rule=broken.rule.value)
            reason = ui.input(t("advisor.override_reason")).props("outlined autofocus").classes("w-full") \
                .mark("override-reason")
            missing = ui.label("").classes("text-negative")

            def submit() -> None:
                if not (reason.value or "").strip():
                    missing.text = t("error.cancel_needs_reason")
                    return
                dialog.submit(reason.value.strip())

            with ui.row().classes("w-full justify-end"):
                ui.button(t("kiosk.back"), on_click=dialog.close).props("flat")
                ui.button(t("advisor.override"), on_click=submit).props("unelevated color=negative") \
                    .mark("override-confirm")
        value = await dialog
        return value if isinstance(value, str) else None
