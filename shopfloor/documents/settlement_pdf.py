"""The vehicle maintenance settlement list (机动车维修结算清单, JT/T 1133) as an A4 PDF: the repair enterprise with its
road-transport licence, the customer (托修方), the vehicle, the dates in, settled and out, the category, the repair
items with their flat-rate hours and the parts with their numbers, the amounts in CNY (labour, materials, other,
discount, total, what others pay, paid), the repair's warranty and lines for the signatures, in the standard's
order. Chinese in ReportLab's built-in CID font, as the repair order's PDF (repair_order_pdf.py)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

# the house's font registration, styles and cell helpers (importing it registers STSong-Light, sets useA85 = 0)
from shopfloor.documents.repair_order_pdf import (
    BASE,
    FONT,
    GRID,
    GROUP,
    HEAD_BG,
    LABEL,
    MARGIN,
    PAGE_W,
    RIGHT,
    SMALL,
    TITLE,
    _esc,
    _ruled,
)
from shopfloor.documents.settlement_data import SettlementList, capital_amount
from shopfloor.i18n import Translator

BODY_W = A4[0] - 2 * MARGIN
STAMP = "%Y-%m-%d %H:%M"
STRONG = ParagraphStyle("strong", parent=RIGHT, fontSize=10.5, leading=13)
STRONG_LEFT = ParagraphStyle("strong_left", parent=BASE, fontSize=10.5, leading=13)
SUB = ParagraphStyle("sub", parent=BASE, alignment=TA_CENTER)


def _p(text: object, style: ParagraphStyle = BASE) -> Paragraph:
    return Paragraph(_esc(text), style)


def _money(value: str) -> str:
    return f"{Decimal(value):,.2f}"


def _date(at: datetime | None, t: Translator) -> str:
    return at.strftime(STAMP) if at else t("settlement_list.not_yet")


def _box(rows: Sequence[Sequence[tuple[str, str]]], t: Translator) -> Table:
    """Label/value pairs, two pairs a row; a row of one pair spans the width."""
    label_w, value_w = 38 * mm, BODY_W / 2 - 38 * mm
    data: list[list[Any]] = []
    style: list[Any] = [("GRID", (0, 0), (-1, -1), 0.4, GRID), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                        ("BACKGROUND", (0, 0), (0, -1), HEAD_BG), ("TOPPADDING", (0, 0), (-1, -1), 2),
                        ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]
    for n, row in enumerate(rows):
        cells: list[Any] = [c for label, value in row for c in (_p(t(label), LABEL), _p(value))]
        if len(row) == 1:
            cells += ["", ""]
            style.append(("SPAN", (1, n), (3, n)))
        else:
            style.append(("BACKGROUND", (2, n), (2, n), HEAD_BG))
        data.append(cells)
    table = Table(data, colWidths=[label_w, value_w, label_w, value_w])
    table.setStyle(TableStyle(style))
    return table


def _parties(doc: SettlementList, t: Translator) -> list[Flowable]:
    k = "settlement_list."
    mileage = t(k + "mileage_value", km=f"{doc.mileage_km:,}") if doc.mileage_km is not None else t(k + "not_yet")
    settled = _date(doc.settled_at, t) if doc.settled_at else t(k + "not_settled")
    enterprise = _box([[(k + "enterprise", doc.site_name)], [(k + "licence", doc.licence_number or "—")],
                       [(k + "address", doc.address or "—"), (k + "phone", doc.phone or "—")]], t)
    customer = _box([[(k + "customer", doc.customer), (k + "customer_phone", doc.customer_phone or "—")]], t)
    vehicle = _box([[(k + "plate", doc.plate), (k + "model", doc.model or "—")],
                    [(k + "vin", doc.vin), (k + "mileage", mileage)],
                    [(k + "date_in", _date(doc.date_in, t)), (k + "date_out", _date(doc.date_out, t))],
                    [(k + "settled_at", settled), (k + "category", t(k + f"category_name.{doc.category}"))],
                    [(k + "advisor", doc.advisor)]], t)
    return [_p(t(k + "enterprise_group"), GROUP), enterprise, _p(t(k + "customer_group"), GROUP), customer,
            _p(t(k + "vehicle_group"), GROUP), vehicle]


def _payer(payer: str, t: Translator) -> str:
    return t(f"documents.payer.{payer}")


def _lines(doc: SettlementList, t: Translator) -> list[Flowable]:
    k = "settlement_list."
    items: list[list[Any]] = [[t(k + "col_no"), t(k + "col_item"), t(k + "col_code"), t(k + "col_hours"),
                               t(k + "col_rate"), t(k + "col_labour"), t(k + "col_payer")]]
    items += [[str(n), _p(x.description), _p(x.code), x.hours, _money(x.rate), _money(x.amount), _payer(x.payer, t)]
              for n, x in enumerate(doc.items, 1)]
    if not doc.items:
        items.append(["", t(k + "no_items"), "", "", "", "", ""])
    parts: list[list[Any]] = [[t(k + "col_no"), t(k + "col_part"), t(k + "col_code"), t(k + "col_quantity"),
                               t(k + "col_unit_price"), t(k + "col_amount"), t(k + "col_payer")]]
    parts += [[str(n), _p(x.name), _p(x.number), x.quantity, _money(x.unit_price), _money(x.amount),
               _payer(x.payer, t)] for n, x in enumerate(doc.parts, 1)]
    if not doc.parts:
        parts.append(["", t(k + "no_items"), "", "", "", "", ""])
    widths = [11 * mm, BODY_W - 116 * mm, 30 * mm, 15 * mm, 22 * mm, 24 * mm, 14 * mm]
    item_table, part_table = _ruled(items, widths, numeric_from=3), _ruled(parts, widths, numeric_from=3)
    for table in (item_table, part_table):
        table.setStyle(TableStyle([("ALIGN", (-1, 0), (-1, -1), "CENTER")]))
    return [_p(t(k + "items_group"), GROUP), item_table, _p(t(k + "parts_group"), GROUP), part_table]


def _amounts(doc: SettlementList, t: Translator) -> list[Flowable]:
    k = "settlement_list."
    rows: list[list[Any]] = [
        [_p(t(k + "labour_total"), LABEL), _p(_money(doc.labour_total), RIGHT),
         _p(t(k + "parts_total"), LABEL), _p(_money(doc.parts_total), RIGHT)],
        [_p(t(k + "other_total"), LABEL), _p(_money(doc.other_total), RIGHT),
         _p(t(k + "discount") + (f"（{doc.discount_reason}）" if doc.discount_reason else ""), LABEL),
         _p(f"-{_money(doc.discount)}" if Decimal(doc.discount) else _money(doc.discount), RIGHT)]]
    # the total in capitals beside it (大写金额), as on any Chinese bill: a figure cannot be altered unnoticed
    rows.append([_p(t(k + "total"), LABEL), _p(_money(doc.total), STRONG),
                 _p(t(k + "capitals"), LABEL), _p(capital_amount(doc.total), STRONG_LEFT)])
    labels = [0, 1, 2]  # the rows with a label in the third column too
    spans: list[int] = []
    if doc.payer_totals:
        spans.append(len(rows))
        rows.append(["", _p("；".join(f"{t(k + 'borne_by', payer=_payer(payer, t))} {_money(amount)}"
                                      for payer, amount in doc.payer_totals), SMALL), "", ""])
    labels.append(len(rows))
    rows.append([_p(t(k + "to_pay"), LABEL), _p(_money(doc.to_pay), STRONG),
                 _p(t(k + "paid"), LABEL), _p(_money(doc.paid), STRONG)])
    if Decimal(doc.left) > 0:
        rows.append([_p(t(k + "left"), LABEL), _p(_money(doc.left), STRONG), "", ""])
    label_w, value_w = 38 * mm, BODY_W / 2 - 38 * mm
    table = Table(rows, colWidths=[label_w, value_w, label_w, value_w])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, GRID), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                               ("BACKGROUND", (0, 0), (0, -1), HEAD_BG),
                               *(("BACKGROUND", (2, r), (2, r), HEAD_BG) for r in labels),
                               *(("SPAN", (1, r), (3, r)) for r in spans),
                               ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
    out: list[Flowable] = [_p(t(k + "amounts_group"), GROUP), table, _p(t(k + "currency"), SMALL)]
    if doc.payments:
        words = []
        for pay in doc.payments:
            method = t(k + f"method.{pay.method}")
            sign = "-" if pay.kind == "refund" else ""
            refund = t(k + "refund") + " " if pay.kind == "refund" else ""
            reference = f"（{pay.reference}）" if pay.reference else ""
            words.append(f"{pay.at} {refund}{method} {sign}{_money(pay.amount)}{reference}")
        out.append(_p(f"{t(k + 'payments')}：" + "；".join(words), SMALL))
    return out


def _closing(doc: SettlementList, t: Translator) -> list[Flowable]:
    k = "settlement_list."
    warranty = _p(f"{t(k + 'warranty')}：" + t(k + "warranty_value", days=doc.warranty_days,
                                                 km=f"{doc.warranty_km:,}"))
    line = "_" * 16
    cashier = doc.cashier or line
    signs = Table([[_p(f"{t(k + 'customer_signature')}：{line}"), _p(f"{t(k + 'cashier')}：{cashier}")],
                   [_p(f"{t(k + 'date_line')}：{line}"), _p(f"{t(k + 'date_line')}：{line}")]],
                  colWidths=[BODY_W / 2, BODY_W / 2])
    signs.setStyle(TableStyle([("TOPPADDING", (0, 0), (-1, -1), 9), ("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))
    return [Spacer(1, 3 * mm), warranty, KeepTogether(signs)]


def render(doc: SettlementList, made_at: datetime) -> bytes:
    """The settlement list as PDF bytes; `made_at` (site time) is printed in the footer."""
    t = Translator(doc.language)
    out = io.BytesIO()

    def footer(canvas: Canvas, _template: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(colors.HexColor("#777777"))
        # STSong-Light has no U+00B7: drawn straight on the canvas the site's "·" would show as a box
        words = f"{doc.site_name}  {t('settlement_list.number')} {doc.number}  " \
                f"{t('settlement_list.made_at')} {made_at.strftime(STAMP)}"
        canvas.drawString(MARGIN, 8 * mm, words.replace("·", "・"))
        canvas.drawRightString(PAGE_W - MARGIN, 8 * mm, t("settlement_list.page", page=canvas.getPageNumber()))
        canvas.restoreState()

    template = SimpleDocTemplate(out, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=12 * mm,
                                 bottomMargin=14 * mm, title=f"{t('settlement_list.title')} {doc.number}",
                                 author=doc.site_name, subject=doc.plate, creator="shopfloor")
    story: list[Flowable] = [_p(t("settlement_list.title"), TITLE),
                             _p(f"{t('settlement_list.number')}：{doc.number}", SUB), Spacer(1, 2 * mm),
                             *_parties(doc, t), *_lines(doc, t), *_amounts(doc, t), *_closing(doc, t)]
    template.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
