"""/c/<token>: the customer's own page on their phone (375×812), no login; masked until the plate's last four
characters are proven.

A wrong, unknown or expired token gets the same page with nothing on it. The page is not on the bus (the lounge's
role carries no order's detail and this page holds a secret link): it asks the service again every few seconds."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Request
from nicegui import app, ui

from shopfloor.customer import photos, sections, session
from shopfloor.customer.complaint import ComplaintForm, ComplaintLimit
from shopfloor.domain.errors import DomainError
from shopfloor.i18n import Translator
from shopfloor.kiosk.common.blocking import io

if TYPE_CHECKING:
    from shopfloor.services.aftercare.services import AftercareServices
    from shopfloor.services.reception.customer_page import CustomerPageService, CustomerView, MaskedView
    from shopfloor.services.reception.services import ReceptionServices
    from shopfloor.services.workshop.additional_work import FindingInfo
    from shopfloor.settings import Settings

PATH = "/c"
STATIC_DIR = sections.STATIC_URL
REFRESH_SECONDS = 4.0


class CustomerPage:
    def __init__(self, settings: Settings, *, reception: ReceptionServices, aftercare: AftercareServices) -> None:
        self.settings, self.reception, self.aftercare = settings, reception, aftercare
        self.complaint_limit = ComplaintLimit()

    @property
    def service(self) -> CustomerPageService:
        return self.reception.customer_page

    def register(self, path: str) -> None:
        if not any(getattr(route, "path", None) == STATIC_DIR for route in app.routes):
            app.add_static_files(STATIC_DIR, _static_file(""))
        photos.register(app, path, self.reception)
        ui.page(f"{path}/{{token}}", title=self.settings.site.name)(self.build)

    async def build(self, token: str, request: Request, lang: str | None = None) -> None:
        t = Translator(session.language(request, lang))
        version = int((_static_file("customer.css")).stat().st_mtime)
        ui.add_head_html(f'<link rel="stylesheet" href="{html.escape(f"{STATIC_DIR}/customer.css?v={version}")}">')
        ui.page_title(t("customer_page.title"))
        view = await io(self.service.open, token)
        with ui.column().classes("cp-page w-full"):
            if view is None:
                _nothing(t)
                return
            _Screen(self, t, token, view, request).build()


def _static_file(name: str) -> Path:
    return Path(__file__).parent / "static" / name


def _nothing(t: Translator) -> None:
    """The one answer for a wrong, unknown or expired link."""
    with ui.column().classes("cp-card items-center text-center").mark("cp-nothing"):
        ui.icon("link_off", size="3rem").classes("text-grey-6")
        ui.label(t("customer_page.nothing")).classes("cp-title")
        ui.label(t("customer_page.nothing_hint")).classes("cp-muted")


@dataclass
class _Shown:
    masked: MaskedView | None = None
    full: CustomerView | None = None


class _Screen:
    """One browser's page: the header, the status (redrawn when it changes), the proof form or the details."""

    def __init__(self, page: CustomerPage, t: Translator, token: str, view: MaskedView, request: Request) -> None:
        self.page, self.t, self.token, self.request = page, t, token, request
        self.tz = page.settings.site.tz
        self.shown = _Shown(masked=view)
        self.client = session.client_address(request)

    def today(self) -> Any:
        return self.page.reception.customer_page.ctx.today()

    def build(self) -> None:
        t, view = self.t, self.shown.masked
        assert view is not None
        with ui.column().classes("cp-card cp-head gap-1").mark("cp-head"):
            with ui.row().classes("w-full justify-between items-center no-wrap"):
                ui.label(t("customer_page.title")).classes("text-base font-medium")
                other = "en" if t.lang == "zh-CN" else "zh-CN"
                ui.link(t("customer_page.language"), f"?lang={other}").classes("cp-lang").mark("cp-lang")
            self.plate = ui.label(view.plate_masked).classes("cp-plate").mark("cp-plate")
            ui.label(t("customer_page.hello", customer=view.customer_masked)).classes("cp-hello").mark("cp-hello")
        self.status = ui.column().classes("w-full gap-0")
        self.details = ui.column().classes("w-full gap-3")
        self.complain = ui.column().classes("w-full gap-3")  # the customer's complaint: outside what refreshes
        self.complaint_form: ComplaintForm | None = None
        # dialogs live outside what a refresh redraws: an update while the customer confirms must not drop it
        self.dialogs = ui.element("div")
        with ui.dialog() as self.photo_dialog, ui.card().classes("p-1 w-full overflow-hidden"):
            # a tap anywhere on it closes it again
            self.big = ui.image().classes("w-full").on("click", lambda: self.photo_dialog.close()) \
                .mark("cp-photo-big")
        self._draw_status()
        if session.proved(self.token):
            self.shown.full = None
        else:
            self._proof_form()
        ui.timer(REFRESH_SECONDS, self.refresh, immediate=session.proved(self.token))

    # -- the masked part ---------------------------------------------------------------------------------------
    def _draw_status(self) -> None:
        self.status.clear()
        assert self.shown.masked is not None
        with self.status:
            sections.status(self.t, self.shown.masked, self.tz, self.today())

    def _proof_form(self) -> None:
        t = self.t
        self.details.clear()
        with self.details, ui.column().classes("cp-card").mark("cp-proof"):
            ui.label(t("customer_page.proof.title")).classes("cp-title")
            ui.label(t("customer_page.proof.hint")).classes("cp-muted")
            self.tail = ui.input(t("customer_page.proof.field")) \
                .props("outlined maxlength=8 autocomplete=off autocapitalize=characters").classes("w-full text-lg") \
                .on("keydown.enter", self._prove).mark("cp-tail")
            self.proof_error = ui.label("").classes("cp-error").mark("cp-proof-error")
            ui.button(t("customer_page.proof.submit"), on_click=self._prove) \
                .props("unelevated size=lg no-caps color=blue-8").classes("w-full").mark("cp-prove")

    async def _prove(self) -> None:
        text = (self.tail.value or "").strip()
        if not text:
            self.proof_error.text = self.t("customer_page.proof.empty")
            return
        try:
            right = await io(self.page.service.prove, self.token, text, client=self.client)
        except DomainError as exc:
            self.proof_error.text = exc.message(self.t.lang)
            return
        if not right:
            self.proof_error.text = self.t("customer_page.proof.wrong")
            self.tail.set_value("")
            return
        session.remember_proof(self.token)
        await self.refresh()

    # -- updates -------------------------------------------------------------------------------------------------
    async def refresh(self) -> None:
        masked = await io(self.page.service.open, self.token)
        if masked is None:  # the link expired while open
            self.status.clear()
            self.details.clear()
            self.complain.clear()
            with self.details:
                _nothing(self.t)
            self.shown = _Shown()
            return
        if masked != self.shown.masked:
            self.shown.masked = masked
            self._draw_status()
        if not session.proved(self.token):
            return
        full = await io(self.page.service.full, self.token, self.t.lang)
        if full is not None and full != self.shown.full:
            self.shown.full = full
            self._draw_details(full)
        if full is not None and self.complaint_form is None:
            self.complaint_form = ComplaintForm(
                self.complain, self.t, complaints=self.page.aftercare.complaints, limit=self.page.complaint_limit,
                token=self.token, client=self.client, number=full.number, customer=full.masked.customer_masked,
                proved=lambda: session.proved(self.token))

    def _draw_details(self, full: CustomerView) -> None:
        t, today = self.t, self.today()
        self.plate.text = f"{full.plate[:2]}·{full.plate[2:]}"
        self.details.clear()
        with self.details:
            sections.next_service(t, full)
            if full.findings:
                sections.findings(t, full, self.token, self.tz, today, self._ask, self._show_photo)
            sections.walkaround(t, full, self.token, self._show_photo)
            sections.estimate(t, full, self.tz, today)
            if not full.findings:
                sections.findings(t, full, self.token, self.tz, today, self._ask, self._show_photo)
            ui.label(t("customer_page.refreshed")).classes("cp-muted w-full text-center")

    def _show_photo(self, url: str) -> None:
        self.big.set_source(url)
        self.photo_dialog.open()

    async def _ask(self, finding: FindingInfo, decision: str, shown: list[str]) -> None:
        t = self.t
        with self.dialogs, ui.dialog() as dialog, ui.card().classes("w-full gap-2").mark("cp-confirm"):
            ui.label(t(f"customer_page.findings.confirm_{'approve' if decision == 'approved' else 'decline'}")) \
                .classes("cp-title")
            for line in shown:
                ui.label(line)
            with ui.element("div").classes("cp-buttons pt-2"):
                ui.button(t("customer_page.findings.back"), on_click=lambda: dialog.submit(False)) \
                    .props("flat no-caps").mark("cp-confirm-back")
                ui.button(t("customer_page.findings.confirm"), on_click=lambda: dialog.submit(True)) \
                    .props(f"unelevated no-caps color={'positive' if decision == 'approved' else 'negative'}") \
                    .mark("cp-confirm-yes")
        try:
            if not await dialog or not session.proved(self.token):
                return
            try:
                await io(self.page.service.decide, self.token, finding.id, decision, shown)
            except DomainError as exc:
                ui.notify(exc.message(t.lang), type="negative", multi_line=True)
            else:
                ui.notify(t(f"customer_page.findings.done_{decision}", description=finding.description),
                          type="positive", multi_line=True)
            await self.refresh()
        finally:
            dialog.delete()
