"""/setup → Printers: the site's [[printers]] with what each agent last reported, added, changed, removed (never the
last one), each with a test print that goes the way every ticket goes (print job → MQTT → the printer's agent →
acknowledgement) and shows how it ended. A new printer's MQTT account is made at once (credentials.toml): the embedded
broker (`shopfloor broker`, the demo's) lets it in without a restart; for Mosquitto the page names the two commands."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.domain.errors import DomainError
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.setup.catalogue_common import csv_bar, refused
from shopfloor.services.setup.csv_io import CsvImport
from shopfloor.services.setup.printers import PrintersImport

if TYPE_CHECKING:
    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.printer_choice import PrinterChoice
    from shopfloor.kiosk.common.session import KioskUser
    from shopfloor.services.setup.printers import PrinterSetup
    from shopfloor.settings import PrinterSettings

TRANSPORTS = ("file", "network", "usb", "serial")
ENCODINGS = ("gb18030", "gbk", "ascii")
POLL_SECONDS = 1.0
WAIT_SECONDS = 30.0
STATUS_COLOURS = {"printed": "text-positive", "failed": "text-negative", "uncertain": "text-warning",
                  "pending": "text-grey-8"}


class PrintersTab:
    key = "printers"
    icon = "print"

    def __init__(self, printers: PrinterSetup, choice: PrinterChoice) -> None:
        self.printers = printers
        self.choice = choice

    async def build(self, t: Translator, user: KioskUser) -> None:
        ui.label(t("setup_catalogue.printers.intro")).classes("text-grey-8 max-w-3xl")
        self.notice = ui.column().classes("w-full")
        with ui.row().classes("w-full items-center"):
            ui.space()
            ui.button(t("setup_catalogue.printers.add"), icon="add",
                      on_click=lambda: self._edit(t, user, None)).props("unelevated").mark("printer-add")
        self.listing = ui.column().classes("w-full gap-2")
        self.dialog_host = ui.element("div")
        self.t, self.user = t, user

        self._pending_accounts: list[str] = []

        def run_import(data: bytes) -> CsvImport:
            result: PrintersImport = self.printers.import_csv(data, actor=user.actor)
            self._pending_accounts = result.new_accounts
            return result.report

        async def after_import() -> None:
            if self._pending_accounts:
                self._broker_notice(t, self._pending_accounts)
            await self.refresh()

        csv_bar(t, "printers.csv", self.printers.export_csv, run_import, after_import, "printers")
        await self.refresh()

    async def refresh(self) -> None:
        t, user = self.t, self.user
        printers = await io(self.printers.entries)
        self.listing.clear()
        self.results: dict[str, ui.label] = {}
        with self.listing:
            for p in printers:
                with ui.card().classes("w-full py-2").mark(f"printer-{p.name}"):
                    with ui.row().classes("w-full items-center no-wrap gap-3"):
                        ui.icon("print", size="md").classes("text-grey-7")
                        with ui.column().classes("gap-0 w-72"):
                            ui.label(p.label or p.name).classes("font-bold")
                            ui.label(p.name).classes("text-grey-7 text-sm font-mono")
                        ui.label(self._where(t, p)).classes("w-72 text-sm")
                        ui.label(f"{p.encoding} · {t('setup_catalogue.printers.columns_n', n=p.columns)}") \
                            .classes("w-44 text-sm")
                        status = self.choice.status(p.name)
                        ui.label(t(f"printer_status.{status}")).classes(
                            "w-28 text-sm " + ("text-positive" if status == "online" else "text-grey-7"))
                        ui.space()
                        ui.button(t("setup_catalogue.printers.test"), icon="receipt_long",
                                  on_click=lambda p=p: self._test(t, user, p)).props("outline dense") \
                            .mark(f"printer-test-{p.name}")
                        ui.button(icon="edit", on_click=lambda p=p: self._edit(t, user, p)).props("flat dense") \
                            .mark(f"printer-edit-{p.name}")
                        remove = ui.button(icon="delete", on_click=lambda p=p: self._remove(t, user, p)) \
                            .props("flat dense color=negative").mark(f"printer-remove-{p.name}")
                        if len(printers) == 1:
                            remove.disable()
                    self.results[p.name] = ui.label("").classes("text-sm").mark(f"printer-test-result-{p.name}")

    @staticmethod
    def _where(t: Translator, p: PrinterSettings) -> str:
        if p.transport == "network":
            detail = f"{p.host}:{p.port}"
        elif p.transport == "usb":
            detail = p.device
        elif p.transport == "serial":
            detail = f"{p.device} · {p.baudrate}"
        else:
            detail = p.path or f"tickets/{p.name}"
        return f"{t(f'setup_catalogue.printers.transport.{p.transport}')}: {detail}"

    def _broker_notice(self, t: Translator, names: list[str]) -> None:
        with self.notice, ui.card().classes("w-full bg-amber-1").mark("printer-broker-notice"):
            ui.label(t("setup_catalogue.printers.new_account", names=", ".join(names))).classes("font-bold")
            ui.label(t("setup_catalogue.printers.broker_hint")).classes("text-grey-9")
            ui.label("shopfloor mosquitto-config --data-dir … --out …  &&  sudo systemctl reload mosquitto").classes(
                "font-mono text-sm")
            for name in names:
                ui.label(f"shopfloor printer-agent {name} --data-dir …").classes("font-mono text-sm") \
                    .mark(f"printer-agent-command-{name}")

    async def _test(self, t: Translator, user: KioskUser, p: PrinterSettings) -> None:
        result = self.results.get(p.name)
        try:
            job = await io(self.printers.test_print, p.name, actor=user.actor)
        except DomainError as exc:
            refused(t, exc)
            return
        status, detail = job.status, job.detail
        if result is not None:
            result.set_text(t("setup_catalogue.printers.test_sent", job=job.id))
        waited = 0.0
        while status == "pending" and waited < WAIT_SECONDS:
            await asyncio.sleep(POLL_SECONDS)
            waited += POLL_SECONDS
            status, detail = await io(self.printers.job_status, job.id)
        if result is None:
            return
        text = t(f"setup_catalogue.printers.test_{status}" if status in STATUS_COLOURS else
                 "setup_catalogue.printers.test_pending", job=job.id)
        result.set_text(f"{text}{' · ' + detail if detail else ''}")
        result.classes(replace="text-sm " + STATUS_COLOURS.get(status, "text-grey-8"))

    async def _remove(self, t: Translator, user: KioskUser, p: PrinterSettings) -> None:
        with self.dialog_host, ui.dialog() as dialog, ui.card().mark("printer-remove-confirm"):
            ui.label(t("setup_catalogue.printers.remove_confirm", name=p.label or p.name)).classes("max-w-md")
            with ui.row().classes("w-full justify-end"):
                ui.button(t("setup_catalogue.cancel"), on_click=lambda: dialog.submit(False)).props("flat")
                ui.button(t("setup_catalogue.remove"), on_click=lambda: dialog.submit(True)) \
                        .props("unelevated color=negative").mark("printer-remove-yes")
        if not await dialog:
            return
        try:
            await io(self.printers.remove, p.name, actor=user.actor)
        except DomainError as exc:
            refused(t, exc)
            return
        ui.notify(t("setup_catalogue.removed"), type="positive")
        await self.refresh()

    def _edit(self, t: Translator, user: KioskUser, p: PrinterSettings | None) -> None:
        self.dialog_host.clear()
        with self.dialog_host, ui.dialog().props("persistent") as dialog, \
                ui.card().classes("w-[560px] gap-2").mark("printer-dialog"):
            ui.label(t("setup_catalogue.printers.edit" if p else "setup_catalogue.printers.add")) \
                .classes("text-lg font-bold")
            with ui.row().classes("w-full no-wrap gap-2"):
                name = ui.input(t("setup_catalogue.printers.name"), value=p.name if p else "") \
                    .props("outlined dense maxlength=32").classes("w-48").mark("printer-name")
                label = ui.input(t("setup_catalogue.printers.label"), value=p.label if p else "") \
                    .props("outlined dense maxlength=80").classes("grow").mark("printer-label")
            ui.label(t("setup_catalogue.printers.name_hint")).classes("text-grey-7 text-xs")
            transport = ui.select({k: t(f"setup_catalogue.printers.transport.{k}") for k in TRANSPORTS},
                                  value=p.transport if p else "network",
                                  label=t("setup_catalogue.printers.transport_label")).props("outlined dense") \
                .classes("w-56").mark("printer-transport")
            with ui.row().classes("w-full no-wrap gap-2"):
                path = ui.input(t("setup_catalogue.printers.path"), value=p.path if p else "") \
                    .props("outlined dense").classes("grow").mark("printer-path")
                host = ui.input(t("setup_catalogue.printers.host"), value=p.host if p else "") \
                    .props("outlined dense").classes("grow").mark("printer-host")
                port = ui.number(t("setup_catalogue.printers.port"), value=p.port if p else 9100, min=1,
                                 max=65535).props("outlined dense").classes("w-28").mark("printer-port")
                device = ui.input(t("setup_catalogue.printers.device"), value=p.device if p else "") \
                    .props("outlined dense").classes("grow").mark("printer-device")
                baud = ui.select([1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200],
                                 value=p.baudrate if p else 19200, label=t("setup_catalogue.printers.baudrate")) \
                    .props("outlined dense").classes("w-32").mark("printer-baud")
            path.bind_visibility_from(transport, "value", value="file")
            host.bind_visibility_from(transport, "value", value="network")
            port.bind_visibility_from(transport, "value", value="network")
            device.bind_visibility_from(transport, "value", backward=lambda v: v in ("usb", "serial"))
            baud.bind_visibility_from(transport, "value", value="serial")
            with ui.row().classes("w-full no-wrap gap-2"):
                encoding = ui.select(list(ENCODINGS), value=p.encoding if p else "gb18030",
                                     label=t("setup_catalogue.printers.encoding")).props("outlined dense") \
                    .classes("w-40").mark("printer-encoding")
                papers = {48: t("setup_catalogue.printers.paper_80"), 32: t("setup_catalogue.printers.paper_58")}
                if p is not None and p.columns not in papers:
                    papers[p.columns] = str(p.columns)
                columns = ui.select(papers,
                                    value=p.columns if p else 48, label=t("setup_catalogue.printers.columns")) \
                    .props("outlined dense").classes("w-56").mark("printer-columns")

            async def save() -> None:
                values = {"name": (name.value or "").strip(), "label": label.value or "",
                          "transport": transport.value, "encoding": encoding.value, "columns": columns.value}
                kind = transport.value
                if kind == "file":
                    values["path"] = path.value or ""
                elif kind == "network":
                    values.update(host=host.value or "", port=int(port.value or 9100))
                else:
                    values["device"] = device.value or ""
                    if kind == "serial":
                        values["baudrate"] = baud.value
                try:
                    saved = await io(self.printers.save, values, actor=user.actor,
                                     original=p.name if p is not None else None)
                except DomainError as exc:
                    refused(t, exc)
                    return
                dialog.close()
                ui.notify(t("setup_catalogue.saved_live"), type="positive")
                if saved.new_account:
                    self._broker_notice(t, [saved.printer.name])
                await self.refresh()

            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(t("setup_catalogue.cancel"), on_click=dialog.close).props("flat")
                ui.button(t("setup_catalogue.save"), icon="save", on_click=save).props("unelevated") \
                    .mark("printer-save")
        dialog.open()

