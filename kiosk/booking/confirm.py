"""After booking: what was booked (date, time, advisor, work, the estimate, what to bring), the customer's
confirmation text in their preferred channel ready to copy, and the slip for the reception printer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from nicegui import ui

from shopfloor.domain.errors import DomainError
from shopfloor.i18n import Translator
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.common.session import KioskUser
from shopfloor.services.confirmations import ConfirmationService, day_text
from shopfloor.services.customers import CHANNELS

if TYPE_CHECKING:
    from shopfloor.kiosk.common.printer_choice import PrinterChoice
    from shopfloor.services.printing import PrintJobInfo, PrintService

# Copies the text of the confirmation's textarea: the Clipboard API where the page is a secure context
# (https, localhost), else the older selection copy (a tablet on the shop LAN over plain http).
COPY_JS = """
const area = document.querySelector('[data-testid=confirm-text] textarea');
if (area) {
  area.focus(); area.select();
  if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(area.value); }
  else { document.execCommand('copy'); }
}
"""


class ConfirmationPanel:
    def __init__(self, confirmations: ConfirmationService, printing: PrintService, printers: PrinterChoice,
                 t: Translator, user: KioskUser, state: dict[str, Any], on_new: Callable[[], None],
                 on_again: Callable[[], None]) -> None:
        self.confirmations = confirmations
        self.printing = printing
        self.printers = printers
        self.t = t
        self.user = user
        self.state = state
        self.on_new = on_new
        self.on_again = on_again
        self.jobs: set[int] = set()

    async def build(self) -> None:
        t, a = self.t, self.state
        start, end = datetime.fromisoformat(a["start"]), datetime.fromisoformat(a["end"])
        message = await io(self.confirmations.message, a["id"])
        with ui.row().classes("w-full no-wrap gap-3 items-start"):
            with ui.card().classes("w-1/2 min-w-0 gap-2").props("flat bordered") \
                    .mark("confirmation").props("data-testid=confirmation"):
                with ui.row().classes("items-center gap-2 no-wrap"):
                    ui.icon("check_circle", color="positive", size="lg")
                    ui.label(t("booking_page.booked_title")).classes("text-2xl font-bold") \
                        .mark("booked-title").props("data-testid=booked-title")
                    ui.label(f"#{a['id']}").classes("text-grey-7").mark("booked-id").props("data-testid=booked-id")
                ui.label(f"{a['plate_display']} · {a['customer']} · {a['vehicle_model']}").classes("text-lg")
                with ui.grid(columns="auto 1fr").classes("w-full gap-x-4 gap-y-1 items-baseline"):
                    self._row(t("booking_page.confirm.date"), day_text(t.lang, start.date()), big=True,
                              mark="confirm-date")
                    self._row(t("booking_page.confirm.time"), f"{start:%H:%M}–{end:%H:%M}", big=True,
                              mark="confirm-time")
                    self._row(t("booking_page.advisor"), f"{a['advisor']['code']} · {a['advisor']['name']}",
                              mark="confirm-advisor")
                    if a.get("bay"):
                        self._row(t("booking_page.confirm.bay"), a["bay"])
                ui.separator()
                for line in a["job_lines"]:
                    with ui.row().classes("w-full justify-between no-wrap"):
                        ui.label(str(line["description"])).classes("text-base")
                        ui.label(f"{float(line['hours']):g} h").classes("text-base")
                with ui.row().classes("w-full justify-between no-wrap font-bold"):
                    ui.label(t("booking_page.confirm.estimate")).classes("text-lg")
                    ui.label(f"{a['hours']:g} h").classes("text-lg") \
                        .mark("confirm-hours").props("data-testid=confirm-hours")
                self._extras()
                with ui.row().classes("w-full items-center gap-2 no-wrap rounded bg-amber-1 px-2 py-1"):
                    ui.icon("menu_book", color="amber-10")
                    ui.label(t("booking_page.confirm.bring")).classes("text-base") \
                        .mark("confirm-bring").props("data-testid=confirm-bring")
            with ui.column().classes("w-1/2 min-w-0 gap-2"):
                self._message_card(message)
                with ui.card().classes("w-full gap-2").props("flat bordered"):
                    ui.label(t("booking_page.confirm.slip")).classes("text-base font-bold")
                    with ui.row().classes("w-full no-wrap items-center gap-2"):
                        self.printer = self.printers.select(t, t("kiosk.printer")).classes("grow")
                        self.print_button = ui.button(t("booking_page.confirm.print"), icon="print",
                                                      on_click=self._print).props("unelevated size=lg") \
                            .mark("print-confirmation").props("data-testid=print-confirmation")
                with ui.row().classes("w-full gap-2"):
                    ui.button(t("booking_page.confirm.again"), icon="event_repeat", on_click=self.on_again) \
                        .props("outline size=lg").classes("grow").mark("book-again").props("data-testid=book-again")
                    ui.button(t("booking_page.confirm.new"), icon="add", on_click=self.on_new) \
                        .props("unelevated size=lg").classes("grow").mark("book-new").props("data-testid=book-new")
        # the agent's answer about our slip (printed, or a problem a person has to see); dropped with the page
        self.printing.settled.subscribe(self._settled)

    def _row(self, label: str, value: str, *, big: bool = False, mark: str | None = None) -> None:
        ui.label(label).classes("text-grey-8")
        value_label = ui.label(value).classes("text-2xl font-bold" if big else "text-lg")
        if mark:
            set_attrs(value_label.mark(mark), data_testid=mark)

    def _extras(self) -> None:
        t, a = self.t, self.state
        notes: list[str] = []
        parts = a["parts"]
        if parts["status"] != "none":
            text = t("booking_page.confirm.parts", status=t(f"confirmation.parts.{parts['status']}"))
            if parts["status"] == "to_order" and parts.get("eta"):
                text += " · " + t("booking_page.eta", day=parts["eta"])
            if parts.get("numbers"):
                text += f" · {parts['numbers']}"
            notes.append(text)
        flags = a["flags"]
        names = {"waiting_customer": "confirmation.flag.waiting_customer", "road_test": "confirmation.flag.road_test",
                 "complaining_customer": "confirmation.flag.complaining"}
        on = [t(key) for flag, key in names.items() if flags.get(flag)]
        if flags.get("repeat_repair"):
            on.append(t("confirmation.flag.repeat_repair", number=""))
        if on:
            notes.append(" · ".join(on))
        for text in notes:
            ui.label(text).classes("text-base text-grey-9")
        for o in a.get("overrides", []):
            text = t("booking_page.confirm.overridden", rule=t(f"booking_page.rule.{o['rule']}"), actor=o["actor"],
                     reason=o["reason"])
            ui.label(text).classes("text-sm text-negative").mark("confirm-override") \
                .props("data-testid=confirm-override")

    def _message_card(self, message: dict[str, str]) -> None:
        t = self.t
        preferred = message["preferred"]
        with ui.card().classes("w-full gap-2").props("flat bordered"):
            ui.label(t("booking_page.confirm.message", channel=t(f"customer_channel.{preferred}"))) \
                .classes("text-base font-bold")
            labels = {c: t(f"customer_channel.{c}") + (" ★" if c == preferred else "") for c in CHANNELS}
            self.channel = ui.toggle(labels, value=message["channel"], on_change=self._channel) \
                .props("unelevated dense spread toggle-color=primary no-caps").classes("w-full") \
                .mark("channel").props("data-testid=channel")
            self.text = ui.textarea(value=message["text"]).props("outlined readonly autogrow") \
                .classes("w-full text-base").mark("confirm-text").props("data-testid=confirm-text")
            ui.button(t("booking_page.confirm.copy"), icon="content_copy", on_click=self._copy) \
                .props("outline").mark("copy-text").props("data-testid=copy-text")

    async def _channel(self) -> None:
        try:
            message = await io(self.confirmations.message, self.state["id"], self.channel.value)
        except DomainError as exc:
            ui.notify(exc.message(self.t.lang), type="negative")
            return
        self.text.set_value(message["text"])

    def _copy(self) -> None:
        ui.run_javascript(COPY_JS)
        ui.notify(self.t("booking_page.confirm.copied"), type="positive")

    async def _print(self) -> None:
        self.print_button.disable()
        try:
            job = await io(self.confirmations.print_confirmation, self.state["id"], self.printer.value,
                           self.user.actor)
        except DomainError as exc:
            ui.notify(exc.message(self.t.lang), type="negative")
            return
        finally:
            self.print_button.enable()
        self.jobs.add(job.id)
        ui.notify(self.t("booking_page.confirm.printing"), type="info")

    def _settled(self, job: PrintJobInfo) -> None:
        if job.id not in self.jobs:
            return
        if job.status == "printed":
            ui.notify(self.t("booking_page.confirm.printed"), type="positive")
        else:
            ui.notify(self.t("booking_page.confirm.print_problem", status=self.t(f"print.{job.status}")),
                      type="warning", multi_line=True)
