"""The bay station's dialogs: pause with a reason, finish and the self check (the first quality check), additional
work found (a catalogue operation or the technician's words, hours, parts, a photo) for the advisor to take to the
customer. Each calls its service and redraws the station."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from nicegui import events, ui

from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import DomainError
from shopfloor.domain.states import RoStatus
from shopfloor.domain.workshop import ClockOutcome, PauseReason, QcStage
from shopfloor.kiosk.common import frame
from shopfloor.kiosk.common.blocking import io
from shopfloor.services.workshop.photos import MAX_BYTES

if TYPE_CHECKING:
    from shopfloor.kiosk.workshop.station import StationView

log = logging.getLogger(__name__)
# in the order the technician reads them; the server's own reasons (switched, shift end, rework) are not offered
PAUSES = (PauseReason.BREAK, PauseReason.WAITING_PARTS, PauseReason.WAITING_APPROVAL, PauseReason.SUBLET,
          PauseReason.TECHNICAL_HELP, PauseReason.OTHER)
PAUSE_ICONS = {PauseReason.BREAK: "free_breakfast", PauseReason.WAITING_PARTS: "inventory_2",
               PauseReason.WAITING_APPROVAL: "how_to_reg", PauseReason.SUBLET: "local_shipping",
               PauseReason.TECHNICAL_HELP: "support_agent", PauseReason.OTHER: "more_horiz"}
PHOTO_TYPES = "image/jpeg,image/png,image/webp"
Action = TypeVar("Action", bound=Callable[..., Awaitable[Any]])


def _outside_the_body(action: Action) -> Action:
    """Run a button's action in the dialog host's slot. The button is in the station's body, which a redraw (the
    action's own, or one the bus asks for meanwhile) deletes; ui.notify or a dialog opened from a deleted slot raises
    and the rest of the action (the self check after 完工) was lost."""
    @functools.wraps(action)
    async def run(self: StationDialogs, *args: Any, **kwargs: Any) -> Any:
        with self.view.dialog_host:
            return await action(self, *args, **kwargs)
    return run  # type: ignore[return-value]


class StationDialogs:
    def __init__(self, view: StationView) -> None:
        self.view = view
        self.t = view.t
        self._holders: dict[int, ui.element] = {}

    def _notify_refused(self, exc: DomainError) -> None:
        log.info("station refused: %s", exc.message("en"))
        ui.notify(exc.message(self.t.lang), type="negative", position="center", multi_line=True, classes="text-xl")

    def _dialog(self) -> ui.dialog:
        # in a holder of its own: NiceGUI leaves a hidden marker in the slot a dialog is made in; _close drops both
        with self.view.dialog_host, ui.element("div") as holder:
            dialog = ui.dialog().props("persistent")
        self._holders[dialog.id] = holder
        return dialog

    def _close(self, dialog: ui.dialog) -> None:
        """Delete the dialog once: NiceGUI may have deleted it already (its marker's slot went, the client left);
        a second delete raised 'list.remove(x): x not in list'."""
        if not dialog.is_deleted:
            dialog.delete()
        holder = self._holders.pop(dialog.id, None)
        if holder is not None and not holder.is_deleted:
            holder.delete()

    # -- pause ----------------------------------------------------------------------------------------------
    @_outside_the_body
    async def pause(self, clocking_id: int, number: str) -> None:
        t = self.t
        if not frame.allowed(t, self.view.user, Permission.CLOCK):
            return
        dialog = self._dialog()
        with dialog, ui.card().classes("w-[56rem] max-w-full gap-4 p-6").mark("pause-dialog"):
            ui.label(t("station.choose_pause")).classes("text-3xl font-bold")
            with ui.grid(columns=2).classes("w-full gap-4"):
                for reason in PAUSES:
                    button = ui.button(t(f"workshop.pause.{reason.value}"), icon=PAUSE_ICONS[reason]) \
                        .props("outline size=xl").classes("station-big w-full").mark(f"pause-{reason.value}")
                    if reason == PauseReason.OTHER:  # "other" says what, in a few words (the row below)
                        other_button = button
                    else:
                        button.on_click(lambda r=reason: dialog.submit((r.value, None)))
            with ui.row().classes("w-full items-center no-wrap gap-3") as other:
                note = ui.input(t("station.pause_note"), validation={
                    t("station.pause_note_needed"): lambda v: bool((v or "").strip())}) \
                    .props("outlined maxlength=200").classes("grow text-xl").mark("pause-note")

                def other_chosen() -> None:
                    if note.validate() and (note.value or "").strip():
                        dialog.submit((PauseReason.OTHER.value, note.value.strip()))

                note.on("keydown.enter", other_chosen)
                ui.button(t("station.pause_confirm"), icon="pause_circle", on_click=other_chosen) \
                    .props("unelevated size=lg color=orange-8").mark("pause-other-confirm")
            other.set_visibility(False)
            other_button.on_click(lambda: other.set_visibility(True))
            with ui.row().classes("w-full justify-end"):
                ui.button(t("station.cancel"), on_click=lambda: dialog.submit(None)).props("flat size=lg") \
                    .mark("pause-cancel")
        chosen = await dialog
        self._close(dialog)
        if not chosen:
            return
        reason, words = chosen
        try:
            await io(self.view.page.workshop.clocking.stop, clocking_id, ClockOutcome.PAUSED.value,
                     actor=self.view.actor, reason=reason, note=words)
        except DomainError as exc:
            self._notify_refused(exc)
        else:
            shown = words or t(f"workshop.pause.{reason}")
            ui.notify(t("station.paused", number=number, reason=shown), type="info", position="bottom",
                      classes="text-2xl")
        await self.view.refresh()

    # -- finish and the self check --------------------------------------------------------------------------
    @_outside_the_body
    async def finish(self, clocking_id: int, number: str) -> None:
        t = self.t
        if not frame.allowed(t, self.view.user, Permission.CLOCK):
            return
        try:
            await io(self.view.page.workshop.clocking.stop, clocking_id, ClockOutcome.FINISHED.value,
                     actor=self.view.actor)
        except DomainError as exc:
            self._notify_refused(exc)
            await self.view.refresh()
            return
        ui.notify(t("station.finished", number=number), type="positive", position="bottom", classes="text-2xl")
        await self.view.refresh()
        if QcStage.SELF not in self.view.page.qc_stages:
            return
        state = await io(self.view.page.repair_orders.get, number)
        if state["status"] != RoStatus.QUALITY_CHECK:
            ui.notify(t("station.not_all_done", number=number), type="info", position="bottom", multi_line=True,
                      classes="text-xl")
            return
        await self.self_check(number)

    @_outside_the_body
    async def self_check(self, number: str) -> None:
        t = self.t
        if not frame.allowed(t, self.view.user, Permission.QC):
            return
        state = await io(self.view.page.repair_orders.get, number)
        dialog = self._dialog()
        with dialog, ui.card().classes("w-[52rem] max-w-full gap-4 p-6").mark("self-check"):
            ui.label(t("station.self_check_title", number=number)).classes("text-3xl font-bold")
            ui.label(t("station.self_check_hint")).classes("text-xl text-grey-8")
            _check_lines(t, state.get("job_lines", []))
            with ui.row().classes("w-full gap-4 no-wrap"):
                ui.button(t("station.self_pass"), icon="verified", on_click=lambda: dialog.submit(("pass", ""))) \
                    .props("unelevated color=positive size=xl").classes("station-big grow").mark("self-pass")
                fail = ui.button(t("station.self_fail"), icon="report") \
                    .props("outline color=negative size=xl").classes("station-big grow").mark("self-fail")
            with ui.column().classes("w-full gap-2") as failing:
                reason = ui.input(t("station.self_reason")).props("outlined").classes("w-full text-xl") \
                    .mark("self-reason")
                ui.button(t("station.self_fail_confirm"), icon="report",
                          on_click=lambda: dialog.submit(("fail", reason.value or ""))) \
                    .props("unelevated color=negative size=lg").mark("self-fail-confirm")
            failing.set_visibility(False)
            with ui.row().classes("w-full justify-end"):
                # later: the station lists the order among those waiting for the self check
                ui.button(t("station.later"), on_click=lambda: dialog.submit(None)).props("flat size=lg") \
                    .mark("self-later")
            fail.on_click(lambda: failing.set_visibility(True))
        answer = await dialog
        self._close(dialog)
        if not answer:
            return
        verdict, why = answer
        bay = self.view.bay
        blamed = bay.id if bay is not None and verdict != "pass" else None  # a failed self check is one's own
        try:
            await io(self.view.page.workshop.quality.record, number, QcStage.SELF.value, verdict == "pass",
                     actor=self.view.actor, reason=why or None, responsible=blamed)
        except DomainError as exc:
            self._notify_refused(exc)
            if exc.key == "workshop.error.qc_needs_reason":
                await self.self_check(number)  # asked again: a failure is recorded with its reason
            return
        finally:
            await self.view.refresh()
        key = "station.self_passed" if verdict == "pass" else "station.self_failed"
        ui.notify(t(key, number=number), type="positive" if verdict == "pass" else "warning", position="bottom",
                  classes="text-2xl")

    # -- additional work --------------------------------------------------------------------------------------
    @_outside_the_body
    async def additional(self, number: str) -> None:
        t = self.t
        bay = self.view.bay
        if not number or bay is None:
            ui.notify(t("station.aw.no_job"), type="warning")
            return
        if not frame.allowed(t, self.view.user, Permission.ADDITIONAL_WORK_REPORT):
            return
        page = self.view.page
        operations = await io(page.checkin.operations)
        lang = t.lang
        by_code = {op.code: op for op in operations}
        photo: list[str] = []  # the stored photo's name, once uploaded

        async def uploaded(e: events.UploadEventArguments) -> None:
            data = await e.file.read()
            try:
                name = await io(page.photo_store.save, data)
            except DomainError as exc:
                self._notify_refused(exc)
                upload.reset()
                return
            for old in photo:
                await io(page.photo_store.discard, old)
            photo[:] = [name]
            ui.notify(t("station.aw.photo_added"), type="positive")

        def chosen(e: events.ValueChangeEventArguments) -> None:
            op = by_code.get(e.value or "")
            if op is not None:
                hours.set_value(float(op.hours))

        dialog = self._dialog()
        with dialog, ui.card().classes("w-[60rem] max-w-full gap-3 p-6").mark("additional-dialog"):
            ui.label(t("station.aw.title", number=number)).classes("text-3xl font-bold")
            operation = ui.select({op.code: f"{op.code} · {op.name(lang)} · {float(op.hours):g} h"
                                   for op in operations}, label=t("station.aw.operation"), clearable=True,
                                  on_change=chosen).props("outlined").classes("w-full text-xl").mark("aw-operation")
            description = ui.textarea(t("station.aw.description")).props("outlined autogrow maxlength=200") \
                .classes("w-full text-xl").mark("aw-description")
            with ui.row().classes("w-full no-wrap gap-4 items-start"):
                hours = ui.number(t("station.aw.hours_label"), min=0.1, max=40, step=0.1, format="%.1f") \
                    .props("outlined").classes("w-40 text-xl").mark("aw-hours")
                parts = ui.input(t("station.aw.parts")).props("outlined").classes("grow text-xl").mark("aw-parts")
            upload = ui.upload(label=t("station.aw.photo"), auto_upload=True, max_files=1,
                               max_file_size=MAX_BYTES, on_upload=uploaded) \
                .props(f'accept="{PHOTO_TYPES}" flat bordered').classes("w-full").mark("aw-photo")
            with ui.row().classes("w-full justify-end gap-3"):
                ui.button(t("station.cancel"), on_click=lambda: dialog.submit(False)).props("flat size=lg") \
                    .mark("aw-cancel")
                ui.button(t("station.aw.send"), icon="send", on_click=lambda: dialog.submit(True)) \
                    .props("unelevated size=lg").classes("station-big").mark("aw-send")
        while True:
            send = await dialog
            if not send:
                break
            try:
                found = await io(
                    page.workshop.additional_work.report, number, technician=bay.id, actor=self.view.actor,
                    description=description.value or "", hours=hours.value, operation=operation.value or None,
                    parts=[p.strip() for p in (parts.value or "").replace("，", ",").split(",") if p.strip()],
                    photo=photo[0] if photo else None)
            except DomainError as exc:
                self._notify_refused(exc)
                continue  # the form stays as typed: correct it and send again
            ui.notify(t("station.aw.sent", description=found.description), type="positive", position="bottom",
                      classes="text-2xl")
            photo.clear()
            break
        for left in photo:  # uploaded, not sent
            await io(page.photo_store.discard, left)
        self._close(dialog)
        await self.view.refresh()


def _check_lines(t: Any, lines: list[dict[str, Any]]) -> None:
    """The order's lines to check one by one: what was done and by whom (cancelled lines are not checked)."""
    with ui.column().classes("w-full gap-1 bg-grey-2 rounded p-3").mark("self-check-lines"):
        for line in lines:
            if line.get("status") == "cancelled":
                continue
            who = "、".join(tech.get("name", "") for tech in line.get("technicians", [])) or t("station.nobody")
            with ui.row().classes("w-full items-center no-wrap gap-3"):
                ui.icon("check_box_outline_blank", size="md").classes("text-grey-7")
                ui.label(line.get("description", "")).classes("text-2xl grow").mark("self-check-line")
                ui.label(who).classes("text-xl text-grey-8").mark("self-check-who")
