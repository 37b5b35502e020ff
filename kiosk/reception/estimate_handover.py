"""The handover record (交接车登记) on the estimate page: when the order needs one (long work, or the customer leaves
the car), the car's condition as the walkaround recorded it — the diagram's marks, fuel, odometer, valuables, the
protection kit, the promise — and the customer's own signature on it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nicegui import ui

from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import DomainError
from shopfloor.domain.walkaround import Position
from shopfloor.kiosk.common import frame
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.reception.estimate_format import short_digest
from shopfloor.kiosk.reception.estimate_signing import SignatureForm, signed_block
from shopfloor.kiosk.reception.walkaround_diagram import STATIC_URL as DIAGRAM_URL

if TYPE_CHECKING:
    from shopfloor.kiosk.reception.estimate_page import EstimateDesk, Loaded
    from shopfloor.services.reception.handover import HandoverView

MARK_COLOURS = {"scratch": "#c62828", "dent": "#ef6c00", "chip": "#6a1b9a", "crack": "#1565c0", "missing": "#212121",
                "other": "#607d8b"}


class HandoverTab:
    def __init__(self, desk: EstimateDesk) -> None:
        self.desk, self.t = desk, desk.t
        self.shown: tuple[int, bool, bool] | None = None

    def build(self) -> None:
        self.info = ui.column().classes("w-full gap-2").mark("handover-info")
        self.form = ui.column().classes("w-full gap-2").mark("handover-form")

    def draw(self, data: Loaded) -> None:
        view = data.handover
        if view is None or not view.required:
            self.info.clear()
            self.form.clear()
            self.shown = None
            return
        self._draw_info(view, data)
        if self.shown != (view.version, view.signed, view.recorded):
            self.shown = (view.version, view.signed, view.recorded)
            self._draw_form(view, data)

    def _draw_info(self, view: HandoverView, data: Loaded) -> None:
        t, c = self.t, view.content
        self.info.clear()
        with self.info:
            if view.signed:
                banner = ("bg-green-1 text-green-10", "verified",
                          t("estimate.handover.signed", version=view.version, signer=view.signer or "",
                            time=self.desk.when(view.signed_at), digest=short_digest(view.digest)))
            elif not view.recorded:
                banner = ("bg-orange-1 text-orange-10", "directions_car", t("estimate.handover.no_walkaround"))
            else:
                banner = ("bg-blue-1 text-blue-10", "draw", t("estimate.handover.waiting", version=view.version))
            with ui.row().classes(f"w-full items-center gap-2 no-wrap rounded px-3 py-2 {banner[0]}") \
                    .mark("handover-banner"):
                ui.icon(banner[1], size="sm")
                ui.label(banner[2]).classes("text-base font-medium grow").props("data-testid=handover-banner")
                if not view.recorded:
                    ui.button(t("estimate.handover.open_walkaround"), icon="directions_car",
                              on_click=lambda: ui.navigate.to(f"/kiosk/walkaround/{self.desk.number}")) \
                        .props("unelevated dense").mark("open-walkaround")
            with ui.row().classes("w-full no-wrap gap-4 items-start"):
                self._diagram(c.get("marks") or [])
                self._marks(c.get("marks") or [])
                self._facts(c)

    def _diagram(self, marks: list[dict[str, Any]]) -> None:
        with ui.element("div").classes("relative shrink-0").style("width: 140px; height: 210px") \
                .mark("handover-diagram"):
            # the walkaround's own drawing of the car (the PDF draws the same): a mark sits where it was tapped
            ui.image(f"{DIAGRAM_URL}/car_diagram.svg").props("no-spinner no-transition fit=fill") \
                .classes("absolute inset-0 w-full h-full")
            for i, mark in enumerate(marks, start=1):
                x, y = float(mark.get("x") or 0), float(mark.get("y") or 0)
                colour = MARK_COLOURS.get(str(mark.get("kind")), MARK_COLOURS["other"])
                ui.label(str(i)).classes("absolute rounded-full text-white text-xs font-bold flex items-center "
                                         "justify-center").style(
                    f"left: calc({x * 100:.2f}% - 9px); top: calc({y * 100:.2f}% - 9px); width: 18px; "
                    f"height: 18px; background: {colour}; border: 1.5px solid white")

    def _marks(self, marks: list[dict[str, Any]]) -> None:
        t = self.t
        with ui.column().classes("w-[36%] gap-1").mark("handover-marks"):
            ui.label(t("estimate.handover.marks", count=len(marks))).classes("text-base font-bold")
            if not marks:
                ui.label(t("estimate.handover.no_marks")).classes("text-grey-7")
            with ui.element("div").classes("w-full overflow-y-auto").style("max-height: 11rem"):
                for i, mark in enumerate(marks, start=1):
                    position = str(mark.get("position"))
                    place = t(f"estimate.handover.position.{position}") if position in set(Position) else position
                    kind = t(f"estimate.handover.kind.{mark.get('kind')}")
                    note = f" · {mark['note']}" if mark.get("note") else ""
                    ui.label(f"{i}. {place} · {kind}{note}").classes("text-sm")

    def _facts(self, c: dict[str, Any]) -> None:
        t = self.t
        fuel = c.get("fuel_eighths")
        mileage = c.get("mileage_km")
        with ui.column().classes("grow gap-1").mark("handover-facts"):
            rows = [
                (t("estimate.handover.odometer"), f"{mileage:,} km" if isinstance(mileage, int) else "—"),
                (t("estimate.handover.fuel"), f"{fuel}/8" if isinstance(fuel, int) else "—"),
                (t("estimate.handover.valuables"), t("estimate.yes" if c.get("valuables_taken") else "estimate.no")),
                (t("estimate.handover.kit"), t("estimate.yes" if c.get("protection_kit") else "estimate.no")),
                (t("estimate.handover.leaves"), t("estimate.yes" if c.get("customer_leaves_car") else "estimate.no")),
                (t("estimate.promised"), self.desk.when(c.get("promised_at"))),
            ]
            for label, value in rows:
                with ui.row().classes("w-full justify-between no-wrap border-b border-gray-200 py-1"):
                    ui.label(label).classes("text-base text-grey-8")
                    ui.label(value).classes("text-base font-medium")
            if isinstance(fuel, int):
                with ui.row().classes("gap-1 no-wrap pt-1"):
                    for i in range(8):
                        ui.element("div").classes("h-3 w-6 rounded-sm " + ("bg-primary" if i < fuel else "bg-grey-3"))

    def _draw_form(self, view: HandoverView, data: Loaded) -> None:
        t = self.t
        self.form.clear()
        with self.form:
            if view.signed:
                signed_block(t, self.desk.clock, view.signer, view.signed_at, view.digest, data.handover_signature,
                             "handover")
                return
            if not view.recorded or not self.desk.user.may(Permission.RECEPTION):
                return
            SignatureForm(t, signer=data.estimate.customer or data.ro.get("customer") or "", testid="handover",
                          sign_label=t("estimate.handover.sign"), on_sign=self._sign).build()

    async def _sign(self, name: str, png: bytes) -> bool:
        t, desk = self.t, self.desk
        if desk.data is None or desk.data.handover is None or not frame.allowed(t, desk.user, Permission.RECEPTION):
            return False
        version = desk.data.handover.version
        try:
            result = await io(desk.reception.handover.sign, desk.number, version, name, png, actor=desk.user.actor)
        except DomainError as exc:
            desk.say(exc.message(t.lang), "negative")
            await desk.refresh()
            return False
        desk.say(t("estimate.handover.done", version=version, digest=short_digest(result.digest)), "positive")
        await desk.refresh()
        desk.go("output")
        return True
