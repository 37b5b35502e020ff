"""The bill on the cashier's desk: whose car, the lines grouped by job line with who pays each, labour, parts, the
discount with its reason, the total, what the customer pays, what is paid, and what is left (big: the number the
cashier and the customer look at)."""

from __future__ import annotations

from itertools import groupby
from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.domain.identifiers import display_plate
from shopfloor.kiosk.reception.estimate_format import moment, money, quantity

if TYPE_CHECKING:
    from shopfloor.clock import SiteClock
    from shopfloor.i18n import Translator
    from shopfloor.services.settlement.settlement import SettlementLine, SettlementView

# Quasar colours per payer: what the customer pays stands out from what someone else pays
PAYER_COLOURS = {"customer": "primary", "warranty": "positive", "insurance": "indigo-7", "internal": "purple-7"}
STATUS_COLOURS = {"ready": "positive", "delivered": "grey-7"}


def status_badge(t: Translator, status: str) -> None:
    ui.badge(t(f"status.{status}"), color=STATUS_COLOURS.get(status, "orange-8")).classes("text-sm px-2")


class BillPane:
    def __init__(self, t: Translator, clock: SiteClock) -> None:
        self.t, self.clock = t, clock

    def build(self) -> None:
        self.box = ui.column().classes("w-full gap-2").mark("bill")

    def empty(self) -> None:
        self.box.clear()
        with self.box, ui.column().classes("w-full items-center pt-24 gap-3 text-grey-7"):
            ui.icon("point_of_sale", size="4rem")
            ui.label(self.t("cashier.pick")).classes("text-lg text-center").mark("bill-empty")

    def draw(self, v: SettlementView) -> None:
        t = self.t
        self.box.clear()
        with self.box:
            with ui.row().classes("w-full items-start justify-between no-wrap gap-3"):
                with ui.column().classes("gap-0 min-w-0"):
                    with ui.row().classes("items-baseline gap-3 no-wrap"):
                        ui.label(display_plate(v.plate)).classes("text-3xl font-bold whitespace-nowrap") \
                            .mark("bill-plate")
                        status_badge(t, v.status)
                    ui.label(v.number).classes("text-sm text-grey-7 font-mono").mark("bill-number")
                    ui.label(" · ".join(x for x in (v.customer, v.vehicle_model) if x)).classes(
                        "text-grey-8 truncate")
                with ui.column().classes("gap-0 items-end shrink-0"):
                    self._left(v)
            if not v.estimate_version:
                self._unsigned()
            with ui.column().classes("w-full gap-0 max-h-[330px] overflow-y-auto border border-gray-300 rounded "
                                     "px-3 py-1").mark("bill-lines"):
                for _line_id, group in groupby(v.lines, key=lambda x: x.job_line_id):
                    self._job_line(list(group))
            self._totals(v)

    def _unsigned(self) -> None:
        """No signed estimate behind the bill: said where the cashier looks before taking money (it may still be
        taken; the customer may dispute what they never agreed to)."""
        t = self.t
        with ui.row().classes("w-full items-center no-wrap gap-2 px-3 py-2 rounded bg-amber-2 text-amber-10 "
                              "border border-amber-7"):
            ui.icon("warning", size="1.75rem").classes("text-amber-9 shrink-0")
            with ui.column().classes("gap-0 min-w-0"):
                ui.label(t("cashier.estimate_unsigned")).classes("text-base font-bold").mark("bill-unsigned")
                ui.label(t("cashier.estimate_unsigned_hint")).classes("text-sm")

    def _left(self, v: SettlementView) -> None:
        t = self.t
        if v.left > 0:
            ui.label(t("cashier.left")).classes("text-sm text-grey-7")
            ui.label(money(v.left)).classes("text-5xl font-bold text-orange-9").mark("bill-left")
        elif v.left < 0:
            ui.label(t("cashier.overpaid", amount=money(-v.left))).classes("text-lg font-bold text-negative") \
                .mark("bill-left")
        elif v.to_pay == 0:
            ui.label(t("cashier.nothing_to_pay")).classes("text-xl font-bold text-positive").mark("bill-left")
        else:
            ui.icon("check_circle", color="positive", size="2.5rem")
            ui.label(t("cashier.settled", time=moment(v.settled_at, self.clock))).classes(
                "text-xl font-bold text-positive").mark("bill-left")

    def _job_line(self, lines: list[SettlementLine]) -> None:
        t = self.t
        first = lines[0]
        with ui.row().classes("w-full items-center gap-2 no-wrap pt-2"):
            ui.label(first.description).classes("font-bold truncate")
            ui.badge(t(f"settlement.payer.{first.payer}"), color=PAYER_COLOURS.get(first.payer, "grey-7")) \
                .classes("text-xs").mark(f"payer-{first.job_line_id}")
            if first.origin == "additional":
                ui.badge(t("cashier.additional"), color="orange-8").props("outline").classes("text-xs")
        for x in lines:
            with ui.row().classes("w-full items-center no-wrap gap-2 pl-4 text-sm" + (
                    "" if x.payer == "customer" else " text-grey-7")):
                if x.kind == "labour":
                    ui.label(t("cashier.labour")).classes("w-14 text-grey-7")
                    ui.label(t("cashier.hours", hours=quantity(x.quantity), price=money(x.unit_price))) \
                        .classes("flex-1 truncate")
                else:
                    ui.label(t("cashier.parts")).classes("w-14 text-grey-7")
                    ui.label(f"{x.description} · {x.code}" if x.code else x.description).classes("flex-1 truncate")
                    ui.label(t("cashier.pieces", quantity=quantity(x.quantity), price=money(x.unit_price))) \
                        .classes("text-grey-7 whitespace-nowrap")
                ui.label(money(x.amount)).classes("w-24 text-right font-mono")

    def _totals(self, v: SettlementView) -> None:
        t = self.t

        def row(label: str, amount: str, marker: str, classes: str = "") -> None:
            with ui.row().classes(f"w-full justify-between no-wrap gap-2 {classes}"):
                ui.label(label).classes("truncate")
                ui.label(amount).classes("font-mono whitespace-nowrap").mark(marker)

        with ui.column().classes("w-full gap-0 px-3 text-base"):
            row(t("cashier.labour"), money(v.labour), "bill-labour")
            row(t("cashier.parts"), money(v.parts), "bill-parts")
            if v.discount:
                row(t("cashier.discount_reason", reason=v.discount_reason) if v.discount_reason
                    else t("cashier.discount"), money(-v.discount), "bill-discount", "text-positive")
            row(t("cashier.total"), money(v.total), "bill-total", "font-bold border-t pt-1")
            for payer, amount in v.payer_totals.items():
                if payer != "customer":
                    row(t("cashier.payer_pays", payer=t(f"settlement.payer.{payer}")), money(amount),
                        f"bill-payer-{payer}", "text-grey-7")
            row(t("cashier.to_pay"), money(v.to_pay), "bill-to-pay", "text-lg font-bold text-primary")
            row(t("cashier.paid"), money(v.paid), "bill-paid")
            if v.estimate_version:
                ui.label(t("cashier.estimate_signed", version=v.estimate_version)).classes("text-xs text-grey-6 pt-1")
