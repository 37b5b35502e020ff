"""Choosing one's own PIN: forced after signing in with a one-time PIN (no page works until it is done), and at
will from the header's menu ("change my PIN")."""

from __future__ import annotations

from collections.abc import Callable

from nicegui import ui

from shopfloor.domain.errors import DomainError
from shopfloor.i18n import Translator
from shopfloor.kiosk.common import session
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.common.blocking import io
from shopfloor.services.pins import PIN_MAX
from shopfloor.services.staff_pins import PinService


def _pin_input(label: str, mark: str) -> ui.input:
    # a tablet's numeric keyboard; the browser neither fills it in nor offers to keep it
    return set_attrs(ui.input(label, password=True).props(
        f"outlined inputmode=numeric maxlength={PIN_MAX} autocomplete=off input-class=text-2xl") \
        .classes("w-full").mark(mark), data_testid=mark)


class PinChangeDialog:
    """Current PIN, the new one twice; saved through PinService.change_own as the signed-in person."""

    def __init__(self, pins: PinService, t: Translator, user: session.KioskUser, *, forced: bool,
                 on_changed: Callable[[], object]) -> None:
        self.pins = pins
        self.t = t
        self.user = user
        self.forced = forced
        self.on_changed = on_changed
        # forced: no way out but a new PIN or logging out (persistent: neither Esc nor a tap beside it closes it)
        self.dialog = ui.dialog().props("persistent" if forced else "")
        with self.dialog, ui.card().classes("w-[34rem] max-w-full gap-3 p-6") \
                .mark("pin-change").props("data-testid=pin-change"):
            with ui.row().classes("items-center gap-3 no-wrap"):
                ui.icon("password", size="2rem", color="primary")
                ui.label(t("pins.forced_title" if forced else "pins.title")).classes("text-2xl font-bold")
            if forced:
                ui.label(t("pins.forced_text", name=user.name)).classes("text-lg text-grey-9")
            self.current = _pin_input(t("pins.current"), "pin-current")
            self.new = _pin_input(t("pins.new"), "pin-new")
            self.repeat = _pin_input(t("pins.repeat"), "pin-repeat")
            ui.label(t("pins.rules")).classes("text-sm text-grey-7")
            self.error = ui.label("").classes("text-lg text-negative").mark("pin-change-error") \
                .props("data-testid=pin-change-error")
            with ui.row().classes("w-full justify-end gap-2"):
                if forced:
                    ui.button(t("pins.log_out"), icon="logout", on_click=_log_out).props("flat").mark("pin-log-out")
                else:
                    ui.button(t("pins.cancel"), on_click=self.dialog.close) \
                        .props("flat data-testid=pin-cancel").mark("pin-cancel")
                self.save = ui.button(t("pins.save"), icon="check", on_click=self._save) \
                    .props("unelevated size=lg data-testid=pin-save").mark("pin-save")

    def open(self) -> None:
        self.dialog.open()

    async def _save(self) -> None:
        current, new, repeat = (str(f.value or "") for f in (self.current, self.new, self.repeat))
        if new != repeat:
            self.error.set_text(self.t("pins.mismatch"))
            return
        self.save.disable()
        try:
            await io(self.pins.change_own, self.user.advisor_id, current, new, self.user.actor)
        except DomainError as exc:
            self.error.set_text(exc.message(self.t.lang))
            return
        finally:
            self.save.enable()
        session.mark_one_time_pin(False)
        for field in (self.current, self.new, self.repeat):
            field.set_value("")
        self.dialog.close()
        ui.notify(self.t("pins.changed"), type="positive")
        self.on_changed()


def forced(pins: PinService, t: Translator, user: session.KioskUser) -> None:
    """The dialog no page gets past: shown on every staff page while the person's PIN is one-time; saved, the page
    opens."""
    PinChangeDialog(pins, t, user, forced=True, on_changed=ui.navigate.reload).open()


def _log_out() -> None:
    session.log_out()
    ui.navigate.reload()
