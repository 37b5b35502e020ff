"""/workshop/badges: every active technician's badge card from the setup data (name, skill, the QR of the badge
token), on A4 sheets of ten cards to print and cut. For the foreman or the manager (the dispatch page's
permission); reached from the station and the dispatch board. A lost badge is reissued in the setup data
(services/site_setup.reissue_badge), and this sheet printed again."""

from __future__ import annotations

import base64
import io as bytes_io
from typing import TYPE_CHECKING

import qrcode
from nicegui import ui
from qrcode.constants import ERROR_CORRECT_M

from shopfloor.kiosk.common.blocking import io

if TYPE_CHECKING:
    from shopfloor.kiosk.common.frame import StaffFrame
    from shopfloor.services.repair_orders import RepairOrderService
    from shopfloor.services.workshop.clocking import ClockingService

PATH = "/workshop/badges"
# A4 portrait, 10 mm margins: two columns of 90 × 52 mm cards (about a bank card's size), five rows a sheet.
STYLE = """<style>
.badge-sheet { display: grid; grid-template-columns: repeat(2, 90mm); grid-auto-rows: 52mm; gap: 3mm; }
.badge-card { box-sizing: border-box; border: 1px dashed #888; border-radius: 3mm; padding: 4mm;
  display: flex; align-items: center; gap: 4mm; overflow: hidden; break-inside: avoid; background: white; }
.badge-card img { width: 42mm; height: 42mm; image-rendering: pixelated; }
.badge-card .badge-name { font-size: 9mm; font-weight: 700; line-height: 1.1; }
.badge-card .badge-skill { font-size: 4.5mm; color: #444; }
.badge-card .badge-site { font-size: 3.5mm; color: #666; }
@media print {
  @page { size: A4 portrait; margin: 10mm; }
  .q-header, .badge-controls { display: none !important; }
  .q-page-container { padding-top: 0 !important; }
  .nicegui-content { padding: 0 !important; }
  /* Quasar's layout is a screen tall: printed, that would add an empty sheet */
  .q-layout, .q-page-container, .q-page { min-height: 0 !important; }
}
</style>"""


def qr_data_url(text: str) -> str:
    """The badge token's QR as a PNG data URL (drawn on the server: nothing of the token goes into markup)."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=8, border=2)
    qr.add_data(text)
    qr.make(fit=True)
    out = bytes_io.BytesIO()
    qr.make_image().save(out)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


class BadgesPage:
    def __init__(self, frame: StaffFrame, *, clocking: ClockingService, repair_orders: RepairOrderService,
                 site_name: str) -> None:
        self.frame = frame
        self.clocking = clocking
        self.repair_orders = repair_orders
        self.site_name = site_name

    def register(self, path: str) -> None:
        ui.page(path, title="shopfloor · badges")(self.build)

    def _cards(self, only: int | None = None) -> list[tuple[str, str, str]]:
        badges = self.clocking.badges()
        return [(tech["name"], tech["skill"], qr_data_url(badges[tech["id"]]))
                for tech in self.repair_orders.technicians()
                if tech["id"] in badges and (only is None or tech["id"] == only)]

    async def build(self, lang: str | None = None, technician: str | None = None) -> None:
        """`technician`: one technician's card only (/setup's print button, after a badge is reissued)."""
        signed_in = await self.frame.open(lang, PATH)
        if signed_in is None:
            return
        t, _user = signed_in
        ui.add_head_html(STYLE)
        cards = await io(self._cards, int(technician) if technician and technician.isdigit() else None)
        with ui.row().classes("w-full items-center justify-between badge-controls"):
            with ui.column().classes("gap-0"):
                ui.label(t("badges.title")).classes("text-2xl font-bold").mark("badges-title")
                ui.label(t("badges.hint")).classes("text-grey-7")
            ui.button(t("badges.print"), icon="print", on_click=lambda: ui.run_javascript("window.print()")) \
                .props("unelevated size=lg").mark("badges-print")
        if not cards:
            ui.label(t("badges.none")).classes("text-xl text-grey-7")
            return
        with ui.element("div").classes("badge-sheet").mark("badge-sheet").props("data-testid=badge-sheet"):
            for name, skill, qr in cards:
                with ui.element("div").classes("badge-card").mark("badge-card"):
                    ui.image(qr).props("no-spinner no-transition fit=contain").classes("shrink-0") \
                        .style("width: 42mm; height: 42mm")
                    with ui.column().classes("gap-1"):
                        ui.label(name).classes("badge-name")
                        ui.label(t("badges.skill", skill=t(f"skill.{skill}"))).classes("badge-skill")
                        ui.label(self.site_name).classes("badge-site")
