"""The check-in form shown after a scan: what was booked (its lines ticked, free-text lines kept, the booking's notes,
flags and parts), the customer's words, mileage, fuel, job lines, promised time (from the ticked hours and the
workshop's queues); and, for a car delivered within [workshop] comeback_days, the comeback mark (suggested when the
concern is alike)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from nicegui import background_tasks, ui

from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import DomainError, Refused
from shopfloor.i18n import Translator
from shopfloor.kiosk.common import frame
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.common.session import KioskUser
from shopfloor.services.checkin import CheckinRequest, JobLineInput, ScanResult, booked_lines
from shopfloor.services.comebacks import EarlierVisit, best_match

if TYPE_CHECKING:
    from shopfloor.clock import SiteClock
    from shopfloor.domain.models import LabourOperation
    from shopfloor.kiosk.common.printer_choice import PrinterChoice
    from shopfloor.services.checkin import CheckinService
    from shopfloor.services.comebacks import ComebackService
    from shopfloor.services.printing import PrintService

FUEL_STEPS = (0, 2, 4, 6, 8)


class CheckinForm:
    def __init__(self, checkin: CheckinService, printing: PrintService, printers: PrinterChoice, clock: SiteClock,
                 t: Translator, scan: ScanResult, user: KioskUser, on_done: Callable[[str], Awaitable[None]],
                 comebacks: ComebackService | None = None, recent: Sequence[EarlierVisit] = ()) -> None:
        self.checkin = checkin
        self.printing = printing
        self.printers = printers
        self.clock = clock
        self.t = t
        self.scan = scan
        self.user = user
        self.on_done = on_done
        self.selected: dict[str, LabourOperation] = {}
        # booked lines the catalogue does not have (free text, or a code it no longer knows): kept as written,
        # on the order while ticked
        self.free: list[JobLineInput] = []
        self.free_on: dict[int, bool] = {}
        self.promise_touched = False
        self.comebacks = comebacks
        self.recent = list(recent)  # the car's deliveries within [workshop] comeback_days
        self.comeback_touched = False  # once the advisor ticks or unticks it, the suggestion no longer moves it
        self.comeback_box: ui.checkbox | None = None
        self.suggested: EarlierVisit | None = None

    def build(self, operations: list[LabourOperation]) -> None:
        t, scan = self.t, self.scan
        lang = t.lang
        with ui.card().classes("w-full").props("flat bordered"), \
                ui.row().classes("w-full items-center justify-between"):
            with ui.column().classes("gap-0"):
                ui.label(scan.plate_display).classes("text-3xl font-bold").props("data-testid=scan-plate")
                ui.label(f"{scan.customer} · {scan.vehicle_model} · VIN {scan.vin}").classes("text-grey-8")
            appt = scan.appointment
            if appt:
                ui.label(t("kiosk.appointment_at", time=appt["start"][11:16], work=appt["work"],
                           advisor=appt["advisor"]["name"])).classes("text-lg text-primary").mark("scan-appt")
            else:
                ui.label(t("kiosk.walk_in")).classes("text-lg text-orange-9").mark("scan-walkin")
        if appt:
            self._booking_notes(appt)
        if self.recent:
            self._comeback_banner()
        with ui.row().classes("w-full gap-4 no-wrap items-start"):
            with ui.column().classes("w-1/2 gap-2"):
                self.complaint = ui.textarea(t("kiosk.complaint"), placeholder=t("kiosk.complaint_hint")) \
                    .props("outlined autogrow").classes("w-full text-lg").mark("complaint") \
                    .on("blur", self._suggest_comeback)
                with ui.row().classes("w-full no-wrap gap-2"):
                    self.mileage = ui.number(t("kiosk.mileage"), min=0, max=2_000_000, step=1, format="%d",
                                             value=None, suffix="km").props("outlined").classes("w-1/2")
                    if scan.mileage_km:
                        set_attrs(self.mileage, hint=t("kiosk.last_mileage", km=scan.mileage_km))
                    # A 24-hour HH:MM field: the browser's own time input shows AM/PM in some locales.
                    self.promised = ui.input(t("kiosk.promised"), placeholder="HH:MM") \
                        .props('outlined mask="##:##" inputmode=numeric data-testid=promised').classes("w-1/2") \
                        .mark("promised").on("update:model-value", self._promise_edited)
                ui.label(t("kiosk.fuel")).classes("text-grey-8")
                self.fuel = ui.toggle({s: t(f"fuel.e{s}") for s in FUEL_STEPS}, value=None) \
                    .props("spread unelevated toggle-color=primary").classes("w-full")
            with ui.column().classes("w-1/2 gap-1"):
                ui.label(t("kiosk.job_lines")).classes("text-grey-8")
                booked = self._booked(operations)
                # The booked work first and ticked; then maintenance before repair, as the catalogue reads. An
                # operation out of use is offered only to the car booked with it.
                ordered = sorted((o for o in operations if o.active or o.code in booked),
                                 key=lambda o: (o.code not in booked, o.skill != "maintenance", o.code))
                with ui.scroll_area().classes("w-full h-72 border rounded"):
                    for pos, line in enumerate(self.free):
                        self.free_on[pos] = True
                        box = ui.checkbox(t("checkin.free_line", description=line.description,
                                            hours=f"{float(line.hours):g}", skill=t("skill." + line.skill)),
                                          value=True, on_change=lambda e, p=pos: self._toggle_free(p, e.value)) \
                            .props("dense").classes("py-1 text-base text-deep-orange-10").mark(f"free-{pos}")
                        set_attrs(box, data_testid=f"free-{pos}")
                    for op in ordered:
                        preselect = op.code in booked
                        if preselect:
                            self.selected[op.code] = op
                        box = ui.checkbox(f"{op.name(lang)} · {float(op.hours):g} h · {t('skill.' + op.skill)}",
                                          value=preselect, on_change=lambda e, o=op: self._toggle(o, e.value)) \
                            .props("dense").classes("py-1 text-base").mark(f"op-{op.code}")
                        set_attrs(box, data_testid=f"op-{op.code}")
                self.total = ui.label("").classes("text-lg font-bold").mark("total-hours") \
                    .props("data-testid=total-hours")
        with ui.row().classes("w-full items-center justify-end gap-4"):
            self.printer = self.printers.select(t, t("kiosk.printer"))
            self.submit = ui.button(t("kiosk.check_in_print"), icon="print", on_click=self._submit) \
                .props("size=lg unelevated color=primary data-testid=check-in").mark("check-in")
        self._recalc()
        self._suggest_comeback()

    def _booked(self, operations: list[LabourOperation]) -> set[str]:
        """The catalogue codes booked with the appointment (ticked); what the catalogue lacks goes to self.free.
        An appointment stored before its lines were (or imported without them) matches its work by name."""
        appt = self.scan.appointment
        if not appt:
            return set()
        known = {op.code for op in operations}
        lines = booked_lines(appt.get("job_lines"))
        if not lines:
            return {op.code for op in operations if appt["work"] in (op.name_zh, op.name_en)}
        self.free = [replace(line, code=None) for line in lines if line.code not in known]
        return {line.code for line in lines if line.code in known}

    def _booking_notes(self, appt: dict[str, Any]) -> None:
        """What the booking desk wrote down for reception: its notes, the customer's flags, the parts."""
        t = self.t
        flags = appt.get("flags") or {}
        badges = [t(key) for flag, key in (("waiting_customer", "confirmation.flag.waiting_customer"),
                                           ("road_test", "confirmation.flag.road_test"),
                                           ("complaining_customer", "confirmation.flag.complaining"))
                  if flags.get(flag)]
        if flags.get("repeat_repair"):
            badges.insert(0, t("confirmation.flag.repeat_repair", number="").strip())
        parts = appt.get("parts") or {}
        notes = (appt.get("notes") or "").strip()
        if not (badges or notes or parts.get("status", "none") != "none"):
            return
        with ui.card().classes("w-full gap-1 bg-amber-1").props("flat bordered data-testid=booking-notes") \
                .mark("booking-notes"):
            if badges:
                with ui.row().classes("gap-2"):
                    for text in badges:
                        ui.badge(text, color="deep-orange-9").classes("text-base px-2").mark("booking-flag")
            if parts.get("status", "none") != "none":
                status = t(f"confirmation.parts.{parts['status']}")
                ui.label(t("checkin.parts_eta", status=status, day=parts["eta"]) if parts.get("eta")
                         else t("checkin.parts", status=status)).classes("text-base").mark("booking-parts")
                if parts.get("numbers"):
                    ui.label(t("checkin.parts_numbers", numbers=parts["numbers"])).classes("text-sm text-grey-8")
            if notes:
                ui.label(t("checkin.notes", notes=notes)).classes("text-base").mark("booking-note")

    def _comeback_banner(self) -> None:
        """The car was delivered within comeback_days: say so, and tick "comeback" when today's concern is like
        that visit's (services/comebacks.best_match); the advisor confirms by leaving it ticked or unticks it."""
        latest = self.recent[0]
        with ui.card().classes("w-full bg-deep-orange-1 gap-1").props("flat bordered").mark("comeback-banner"):
            self.comeback_text = ui.label(self.t("comeback.recent", ago=self._ago(latest), number=latest.number,
                                                 work=", ".join(latest.work) or latest.complaint)) \
                .classes("text-base text-deep-orange-10")
            self.comeback_box = ui.checkbox(self.t("comeback.mark", number=latest.number), value=False,
                                            on_change=self._comeback_ticked).mark("comeback-box")

    def _ago(self, visit: EarlierVisit) -> str:
        return self.t("comeback.ago_days", days=visit.days_ago) if visit.days_ago else self.t("comeback.ago_today")

    def _comeback_ticked(self, e: Any) -> None:
        if not getattr(self, "_setting_comeback", False):
            self.comeback_touched = True

    def _suggest_comeback(self) -> None:
        if not self.recent or self.comeback_box is None or self.comeback_touched:
            return
        match = best_match(self.recent, self.complaint.value or "", list(self.selected),
                           [op.name(self.t.lang) for op in self.selected.values() if op.skill == "repair"])
        self.suggested = match
        shown = match or self.recent[0]
        self.comeback_text.text = self.t("comeback.suggested" if match else "comeback.recent", ago=self._ago(shown),
                                         number=shown.number, work=", ".join(shown.work) or shown.complaint)
        self.comeback_box.text = self.t("comeback.mark", number=shown.number)
        self._setting_comeback = True
        try:
            self.comeback_box.set_value(match is not None)
        finally:
            self._setting_comeback = False

    def _comeback_choice(self) -> tuple[str | None, bool]:
        """The visit to mark this order a comeback of (None: not one) and whether it was the suggestion."""
        if self.comeback_box is None or not self.comeback_box.value:
            return None, False
        chosen = self.suggested or self.recent[0]
        return chosen.number, not self.comeback_touched

    def _toggle(self, op: LabourOperation, on: bool) -> None:
        if on:
            self.selected[op.code] = op
        else:
            self.selected.pop(op.code, None)
        self._recalc()
        self._suggest_comeback()

    def _toggle_free(self, pos: int, on: bool) -> None:
        self.free_on[pos] = on
        self._recalc()

    def _free_lines(self) -> list[JobLineInput]:
        return [line for pos, line in enumerate(self.free) if self.free_on.get(pos)]

    def _promise_edited(self) -> None:
        self.promise_touched = True
        self._show_promise_day()

    def _show_promise_day(self) -> None:
        """Say the date when the promised time falls on another day (a car kept overnight)."""
        promised = self._promised_at()
        today = self.clock.today()
        hint = self.t("kiosk.promised_tomorrow", when=f"{promised:%m-%d %H:%M}") \
            if promised and promised.date() != today else ""
        set_attrs(self.promised, hint=hint or None)

    def dirty(self) -> bool:
        """Has the advisor typed anything worth keeping?"""
        return bool((self.complaint.value or "").strip() or self.mileage.value is not None
                    or self.fuel.value is not None)

    def _recalc(self) -> None:
        free = self._free_lines()
        hours = float(sum(op.hours for op in self.selected.values()) + sum(line.hours for line in free))
        self.total.text = self.t("kiosk.total_hours", hours=f"{hours:g}")
        if not self.promise_touched:
            # repair work needs a skilled technician; the workshop's queues say when one can have it done
            skills = {op.skill for op in self.selected.values()} | {line.skill for line in free}
            skill = "repair" if "repair" in skills else "maintenance"
            background_tasks.create(self._propose_promise(hours, skill), name="default promise")
        self._show_promise_day()

    async def _propose_promise(self, hours: float, skill: str) -> None:
        promise = await io(self.checkin.default_promise, hours, skill)
        if self.promise_touched or self.promised.is_deleted:
            return  # the advisor typed a time meanwhile, or the form is gone
        self.promised.set_value(promise.strftime("%H:%M"))
        self.promise_touched = False
        self._show_promise_day()

    def _promised_at(self) -> datetime | None:
        value = (self.promised.value or "").strip()
        if not value:
            return None
        try:
            hh, mm = (int(x) for x in value.split(":")[:2])
        except ValueError:
            return None
        if not (0 <= hh <= 23 and 0 <= mm <= 59 and len(value) == 5):
            return None
        now = self.clock.now().astimezone(self.clock.tz)
        promised = now.replace(hour=hh, minute=mm, second=0, microsecond=0)
        # A time earlier than now means tomorrow (a car kept overnight).
        return promised + timedelta(days=1) if promised < now - timedelta(minutes=1) else promised

    async def _confirm_mileage(self, message: str) -> bool:
        with ui.dialog() as dialog, ui.card().classes("w-[36rem]"):
            ui.label(message).classes("text-lg")
            with ui.row().classes("w-full justify-end"):
                ui.button(self.t("kiosk.back"), on_click=lambda: dialog.submit(False)).props("flat")
                ui.button(self.t("kiosk.mileage_confirm"), on_click=lambda: dialog.submit(True)).props("unelevated")
        return bool(await dialog)

    async def _submit(self) -> None:
        if not frame.allowed(self.t, self.user, Permission.RECEPTION):
            return
        if not self.selected and not self._free_lines() and not (self.complaint.value or "").strip():
            ui.notify(self.t("kiosk.need_work"), type="warning")
            return
        if (self.promised.value or "").strip() and self._promised_at() is None:
            # a time that is none (25:99, 9:6) is said, not dropped: the customer was told something
            set_attrs(self.promised, error=True, error_message=self.t("kiosk.promised_invalid"))
            ui.notify(self.t("kiosk.promised_invalid"), type="warning")
            return
        set_attrs(self.promised, error=False, error_message=None)
        req = CheckinRequest(
            tag=self.scan.tag, actor=self.user.actor, advisor_id=self.user.advisor_id,
            complaint=self.complaint.value or "",
            mileage_km=int(self.mileage.value) if self.mileage.value is not None else None,
            fuel_eighths=self.fuel.value, operation_codes=list(self.selected), extra_lines=self._free_lines(),
            promised_at=self._promised_at())
        self.submit.disable()
        try:
            try:
                result = await io(self.checkin.check_in, req)
            except Refused as exc:
                if exc.key != "error.mileage_lower" or not await self._confirm_mileage(exc.message(self.t.lang)):
                    raise
                req.mileage_confirmed = True
                result = await io(self.checkin.check_in, req)
            number = result.repair_order["number"]
            comeback_of, suggested = self._comeback_choice()
            if result.created and comeback_of is not None and self.comebacks is not None:
                await io(self.comebacks.mark, number, comeback_of, actor=self.user.actor, suggested=suggested)
            if not result.created:
                ui.notify(self.t("kiosk.already_open", number=number), type="info")
            else:
                if self.user.may(Permission.TICKET_PRINT):
                    await io(self.printing.print_ticket, number, self.printer.value, actor=self.user.actor)
                ui.notify(self.t("kiosk.checked_in", number=number), type="positive")
        except DomainError as exc:
            ui.notify(exc.message(self.t.lang), type="negative", multi_line=True)
            self.submit.enable()
            return
        await self.on_done(number)
