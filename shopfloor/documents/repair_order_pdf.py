"""The repair order (维修工单 / 任务委托书) as an A4 PDF: the seeds' four groups of information, the priced work, the
walkaround diagram with its marks, every signed version with its signature and digest, and the customer's link as
a QR code. Chinese is drawn with ReportLab's built-in Adobe CID font STSong-Light: nothing is downloaded and no
font file is embedded (every PDF reader in China has the font or a substitute for it)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

from reportlab import rl_config
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import HRFlowable

from shopfloor.documents.data import EstimateInfo, MarkInfo, RepairOrderDocument, SignatureInfo, WalkaroundInfo
from shopfloor.documents.diagram import CarDiagram, Symbol
from shopfloor.domain.walkaround import ITEMS, MarkKind
from shopfloor.i18n import FALLBACK, Translator, catalogue

FONT = "STSong-Light"
if FONT not in pdfmetrics.getRegisteredFontNames():
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))

MARGIN = 14 * mm
PAGE_W, PAGE_H = A4
BODY_W = PAGE_W - 2 * MARGIN
TIME = "%Y-%m-%d %H:%M"
GRID = colors.HexColor("#9e9e9e")
HEAD_BG = colors.HexColor("#eceff1")
PHOTO_W, PHOTO_H, PHOTOS_A_ROW = 40 * mm, 30 * mm, 4
STATUS_COLOURS = {"red": colors.HexColor("#c62828"), "yellow": colors.HexColor("#f9a825"),
                  "green": colors.HexColor("#2e7d32")}

BASE = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=12)
SMALL = ParagraphStyle("small", parent=BASE, fontSize=7.5, leading=9.5)
LABEL = ParagraphStyle("label", parent=BASE, textColor=colors.HexColor("#555555"))
RIGHT = ParagraphStyle("right", parent=BASE, alignment=TA_RIGHT)
GROUP = ParagraphStyle("group", parent=BASE, fontSize=11, leading=15, spaceBefore=6, spaceAfter=3)
TITLE = ParagraphStyle("title", parent=BASE, fontSize=17, leading=22, alignment=TA_CENTER)
SITE = ParagraphStyle("site", parent=BASE, fontSize=11, leading=14, alignment=TA_CENTER)

# Images written as binary streams, not ASCII85 text: ReportLab's pure-Python ASCII85 encoder was more than half of a
# repair order's render with its photos (305 → 130 ms CPU, 1.25 → 1.0 MB; bench/reception_documents.py). PDFs are
# served as bytes, never pasted as text, so nothing needs them 7-bit.
rl_config.useA85 = 0


def _esc(text: object) -> str:
    """Text for a Paragraph (which reads a little markup): the stored words, never markup."""
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br/>")
    # STSong-Light has no U+00B7 (the dot of a displayed plate, 京A·12345): drawn in Helvetica it stays the same
    # character, so the plate reads back from the PDF as it is shown everywhere else
    return text.replace("·", '<font name="Helvetica">·</font>')


def _p(text: object, style: ParagraphStyle = BASE) -> Paragraph:
    return Paragraph(_esc(text), style)


def money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def quantity(value: Decimal) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def _when(at: datetime | None, t: Translator) -> str:
    return at.strftime(TIME) if at else t("documents.none")


def _yes_no(value: bool | None, t: Translator) -> str:
    return t("documents.unknown") if value is None else t("documents.yes" if value else "documents.no")


def _fields(rows: Sequence[Sequence[tuple[str, str]]], t: Translator) -> Table:
    """Label/value pairs, two pairs a row, in a ruled box."""
    label_w, value_w = 30 * mm, BODY_W / 2 - 30 * mm
    data: list[list[Any]] = [[cell for label, value in row for cell in (_p(t(label), LABEL), _p(value))]
                             for row in rows]
    style: list[Any] = [("GRID", (0, 0), (-1, -1), 0.4, GRID), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                        ("BACKGROUND", (0, 0), (0, -1), HEAD_BG), ("TOPPADDING", (0, 0), (-1, -1), 2),
                        ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]
    for n, row in enumerate(data):
        if len(row) == 2:  # one pair: its value takes the whole row (an address, the customer's words)
            row.extend(["", ""])
            style.append(("SPAN", (1, n), (3, n)))
        else:
            style.append(("BACKGROUND", (2, n), (2, n), HEAD_BG))
    table = Table(data, colWidths=[label_w, value_w, label_w, value_w])
    table.setStyle(TableStyle(style))
    return table


def _ruled(data: list[list[Any]], widths: Sequence[float], *, numeric_from: int) -> Table:
    table = Table(data, colWidths=list(widths), repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, GRID), ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
                               ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("FONTNAME", (0, 0), (-1, -1), FONT),
                               ("FONTSIZE", (0, 0), (-1, -1), 9),
                               ("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"),
                               ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
    return table


def _header(doc: RepairOrderDocument, t: Translator) -> Table:
    qr = _qr(doc.customer_link, 27 * mm)
    left = [_p(doc.site_name, SITE), _p(t("documents.title"), TITLE),
            _p(f"{t('documents.number')} {doc.number}    {t('documents.made_at')} {_when(doc.made_at, t)}",
               ParagraphStyle("sub", parent=BASE, alignment=TA_CENTER))]
    right = [qr, _p(t("documents.customer_link"), ParagraphStyle("qrcap", parent=SMALL, alignment=TA_CENTER))]
    table = Table([[left, right]], colWidths=[BODY_W - 32 * mm, 32 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("ALIGN", (1, 0), (1, 0), "CENTER")]))
    return table


def _qr(text: str, size: float) -> Drawing:
    widget = QrCodeWidget(text, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def _groups(doc: RepairOrderDocument, t: Translator) -> list[Flowable]:
    c, v = doc.customer, doc.vehicle
    followup = doc.followup_channel or c.preferred_channel  # asked at this visit, else as the customer's record says
    channel = t(f"documents.channel.{followup}") if followup else t("documents.unknown")
    out: list[Flowable] = [
        _p(t("documents.customer_group"), GROUP),
        _fields([[("documents.customer_name", f"{c.full_name} {c.salutation}".strip()),
                  ("documents.phone", c.phone or t("documents.none"))],
                 [("documents.address", c.address or t("documents.none"))]], t),
        _p(t("documents.vehicle_group"), GROUP),
        _fields([[("documents.plate", v.plate), ("documents.vin", v.vin)],
                 [("documents.model", v.model or t("documents.none")),
                  ("documents.sold_on", str(v.sold_on) if v.sold_on else t("documents.none"))],
                 [("documents.mileage", t("documents.mileage_value", km=f"{v.mileage_km:,}")
                   if v.mileage_km is not None else t("documents.none")),
                  ("documents.fuel", t("documents.fuel_value", eighths=v.fuel_eighths)
                   if v.fuel_eighths is not None else t("documents.none"))],
                 [("documents.inspection_due", str(v.inspection_due_on) if v.inspection_due_on
                   else t("documents.none")),
                  ("documents.warranty_until", str(v.warranty_expires_on) if v.warranty_expires_on
                   else t("documents.none"))]], t),
        _p(t("documents.service_group"), GROUP),
        _fields([[("documents.advisor", doc.advisor), ("documents.status", doc.status)],
                 [("documents.opened_at", _when(doc.opened_at, t)),
                  ("documents.promised_at", _when(doc.promised_at, t))],
                 [("documents.complaint", doc.complaint.strip() or t("documents.none"))]], t),
        _p(t("documents.extra_group"), GROUP),
        _fields([[("documents.keep_parts", _yes_no(doc.keep_replaced_parts, t)), ("documents.followup", channel)],
                 [("documents.leaves_car", _yes_no(doc.customer_leaves_car, t)),
                  ("documents.protection_kit",
                   _yes_no(doc.walkaround.protection_kit if doc.walkaround else None, t))],
                 [("documents.valuables", _yes_no(doc.walkaround.valuables_taken if doc.walkaround else None, t))]],
                t),
    ]
    return out


def _estimate(estimate: EstimateInfo | None, t: Translator) -> list[Flowable]:
    out: list[Flowable] = [_p(t("documents.estimate_group"), GROUP)]
    if estimate is None:
        return [*out, _p(t("documents.no_estimate"))]
    state = t("documents.estimate_signed") if estimate.signed else \
        t("documents.estimate_by_decision") if estimate.consent == "decision" else t("documents.estimate_unsigned")
    out.append(_p(f"{t('documents.estimate_version', version=estimate.version)} · {state}"))
    if estimate.consent == "decision" and estimate.consented_by:
        out.append(_p(t("documents.list_separator").join(estimate.consented_by), SMALL))
    if estimate.changes:
        out.append(_p(t("documents.changes", changes="；".join(estimate.changes)), SMALL))
    out.append(Spacer(1, 2 * mm))
    payer = partial(_payer, t)
    labour = [line for line in estimate.lines if line.kind == "labour"]
    parts = [line for line in estimate.lines if line.kind != "labour"]
    if labour:
        head = [t(f"documents.{k}") for k in ("col_no", "col_code", "col_item", "col_hours", "col_rate",
                                              "col_amount", "col_payer")]
        rows = [[str(i), line.code or "", _p(line.description), quantity(line.quantity), money(line.unit_price),
                 money(line.amount), payer(line.payer)] for i, line in enumerate(labour, start=1)]
        out += [_p(t("documents.labour"), LABEL),
                _ruled([head, *rows], [10 * mm, 25 * mm, 65 * mm, 16 * mm, 22 * mm, 24 * mm, BODY_W - 162 * mm],
                       numeric_from=3)]
    if parts:
        head = [t(f"documents.{k}") for k in ("col_no", "col_code", "col_part", "col_quantity", "col_unit_price",
                                              "col_amount", "col_payer")]
        rows = [[str(i), line.code or "", _p(line.description), quantity(line.quantity), money(line.unit_price),
                 money(line.amount), payer(line.payer)] for i, line in enumerate(parts, start=1)]
        out += [Spacer(1, 2 * mm), _p(t("documents.parts"), LABEL),
                _ruled([head, *rows], [10 * mm, 25 * mm, 65 * mm, 16 * mm, 22 * mm, 24 * mm, BODY_W - 162 * mm],
                       numeric_from=3)]
    out += [Spacer(1, 2 * mm), _totals(estimate, t)]
    if estimate.terms.strip():
        out.append(_p(t("documents.terms", terms=estimate.terms.strip()), SMALL))
    return out


def _payer(t: Translator, payer: str) -> str:
    return t(f"documents.payer.{payer}")


def _totals(estimate: EstimateInfo, t: Translator) -> Table:
    rows = [[t("documents.labour_total"), money(estimate.labour_total)],
            [t("documents.parts_total"), money(estimate.parts_total)]]
    if estimate.discount:
        rows.append([t("documents.discount"), f"-{money(estimate.discount)}"])
    rows += [[t("documents.total"), money(estimate.total)],
             [t("documents.customer_total_in"), money(estimate.customer_total)]]
    table = Table(rows, colWidths=[45 * mm, 30 * mm], hAlign="RIGHT")
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT), ("FONTSIZE", (0, 0), (-1, -1), 9),
                               ("ALIGN", (0, 0), (-1, -1), "RIGHT"), ("LINEABOVE", (0, -2), (-1, -2), 0.6, GRID),
                               ("FONTSIZE", (0, -1), (-1, -1), 11), ("TOPPADDING", (0, 0), (-1, -1), 1),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]))
    if estimate.discount and estimate.discount_reason.strip():
        return Table([[table], [_p(t("documents.discount_reason", reason=estimate.discount_reason.strip()),
                                   ParagraphStyle("dr", parent=SMALL, alignment=TA_RIGHT))]],
                     colWidths=[BODY_W], style=[("ALIGN", (0, 0), (-1, -1), "RIGHT")])
    return table


def _walkaround(walk: WalkaroundInfo | None, t: Translator) -> list[Flowable]:
    title = _p(t("documents.walkaround_group"), GROUP)
    if walk is None:
        return [title, _p(t("documents.no_walkaround"))]
    diagram = CarDiagram(60 * mm, walk.marks, lambda key: t(f"documents.{key}"), FONT)
    side: list[Flowable] = []
    if walk.recorded_at:
        side.append(_p(t("documents.walkaround_by", who=walk.recorded_by, at=_when(walk.recorded_at, t)), SMALL))
    if walk.explained:
        side.append(_p(t("documents.explained"), SMALL))
    side += [Spacer(1, 2 * mm), _p(t("documents.marks"), LABEL), _marks_table(walk.marks, t), Spacer(1, 2 * mm),
             _legend(t), Spacer(1, 2 * mm), *_items(walk, t)]
    table = Table([[diagram, side]], colWidths=[74 * mm, BODY_W - 74 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (0, 0), 0)]))
    return [KeepTogether([title, table]), *_photos(walk.marks, t)]


def _photos(marks: Sequence[MarkInfo], t: Translator) -> list[Flowable]:
    """The marks' photos, four a row, each captioned with its mark's number, place and kind."""
    cells: list[Any] = []
    for number, mark in enumerate(marks, start=1):
        picture = _picture(mark.photo, PHOTO_W, PHOTO_H) if mark.photo else None
        if picture is None:
            continue
        caption = f"{number}. {t(f'documents.position.{mark.position}')} · {t(f'documents.kind.{mark.kind}')}"
        cells.append([picture, _p(caption, ParagraphStyle("cap", parent=SMALL, alignment=TA_CENTER))])
    if not cells:
        return []
    rows = [cells[i:i + PHOTOS_A_ROW] for i in range(0, len(cells), PHOTOS_A_ROW)]
    rows[-1] += [""] * (PHOTOS_A_ROW - len(rows[-1]))
    table = Table(rows, colWidths=[BODY_W / PHOTOS_A_ROW] * PHOTOS_A_ROW)
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (0, 0), (-1, -1), "CENTER")]))
    return [Spacer(1, 2 * mm), _p(t("documents.photos"), LABEL), table]


def _picture(data: bytes, width: float, height: float) -> Image | None:
    """An image scaled into width × height; None for bytes that are no image (a damaged file)."""
    try:
        w, h = ImageReader(io.BytesIO(data)).getSize()
    except Exception:  # ReportLab raises whatever PIL raised
        return None
    scale = min(width / w, height / h)
    return Image(io.BytesIO(data), width=w * scale, height=h * scale)


def _marks_table(marks: Sequence[MarkInfo], t: Translator) -> Flowable:
    if not marks:
        return _p(t("documents.no_marks"))
    rows = []
    for number, mark in enumerate(marks, start=1):
        text = f"{t(f'documents.position.{mark.position}')} · {t(f'documents.kind.{mark.kind}')}"
        if mark.note.strip():
            text += f"：{mark.note.strip()}"
        if mark.has_photo:
            text += f"（{t('documents.mark_photo')}）"
        rows.append([Symbol(mark.kind, 11, number), _p(text)])
    table = Table(rows, colWidths=[7 * mm, BODY_W - 84 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("TOPPADDING", (0, 0), (-1, -1), 1),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 1), ("LEFTPADDING", (0, 0), (-1, -1), 1)]))
    return table


def _legend(t: Translator) -> Table:
    cells: list[Any] = []
    for kind in MarkKind:
        cells += [Symbol(kind, 8), _p(t(f"documents.kind.{kind}"), SMALL)]
    half = len(cells) // 2
    table = Table([[_p(t("documents.legend"), LABEL), *cells[:half]], ["", *cells[half:]]],
                  colWidths=[12 * mm] + [5 * mm, 17 * mm] * 3)
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 1),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 1), ("TOPPADDING", (0, 0), (-1, -1), 1),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    return table


def _items(walk: WalkaroundInfo, t: Translator) -> list[Flowable]:
    """The red and yellow items, in the walk's order (the six positions', then anything measured)."""
    order = [key for keys in ITEMS.values() for key in keys]
    flagged = sorted((key for key, status in walk.items.items() if status in ("red", "yellow")),
                     key=lambda key: (order.index(key) if key in order else len(order), key))
    if not flagged:
        return [_p(t("documents.items_all_green"), SMALL)] if walk.items else []
    rows = [[_p(_item_label(t, key)), _p(t(f"documents.item_status.{walk.items[key]}"),
                                                 ParagraphStyle("st", parent=BASE,
                                                                textColor=STATUS_COLOURS[walk.items[key]]))]
            for key in flagged]
    table = Table(rows, colWidths=[44 * mm, BODY_W - 121 * mm])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, GRID), ("TOPPADDING", (0, 0), (-1, -1), 1),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]))
    return [_p(t("documents.items_attention"), LABEL), table]


def _item_label(t: Translator, key: str) -> str:
    """The walkaround catalogue's word for an item; a key it lacks (an item added later) is shown as words."""
    found = f"walkaround.item.{key}" in catalogue(t.lang) or f"walkaround.item.{key}" in catalogue(FALLBACK)
    return t(f"walkaround.item.{key}") if found else key.replace("_", " ")


def _signatures(signatures: Sequence[SignatureInfo], t: Translator) -> list[Flowable]:
    out: list[Flowable] = [_p(t("documents.signatures_group"), GROUP)]
    if not signatures:
        out.append(_p(t("documents.no_signature")))
    for sig in signatures:
        words = [t(f"documents.doc_{sig.document}", version=sig.version)]
        if sig.total is not None:
            words.append(t("documents.version_total", total=money(sig.total)))
        text = [_p(" · ".join(words)), _p(t("documents.signed_by", signer=sig.signer)),
                _p(t("documents.signed_at", at=_when(sig.signed_at, t)))]
        if sig.witnessed_by:
            text.append(_p(t("documents.witness", who=sig.witnessed_by), SMALL))
        text.append(_p(t("documents.digest", digest=sig.digest), SMALL))
        picture: Any = _signature_image(sig.png) if sig.png else ""
        table = Table([[picture, text]], colWidths=[62 * mm, BODY_W - 62 * mm])
        table.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.4, GRID), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        out += [KeepTogether(table), Spacer(1, 2 * mm)]
    return out


def _signature_image(png: bytes) -> Flowable:
    return _picture(png, 58 * mm, 24 * mm) or Spacer(1, 1)


def _closing(doc: RepairOrderDocument, t: Translator) -> Table:
    """Lines for the pen on the printed copy, and the customer link's hint again beside them. A version the customer
    signed on the pad (or consented to by their decision) has its signature above: no blank line for them then, and
    the advisor who took it is named."""
    line = "_" * 18
    consented = doc.estimate is not None and doc.estimate.consented
    advisor = _p(f"{t('documents.advisor_signature')}：{doc.advisor if consented else line}")
    customer: Any = "" if consented else _p(f"{t('documents.customer_signature')}：{line}")
    table = Table([[advisor, customer, _p(t("documents.customer_link_hint"), SMALL)]],
                  colWidths=[BODY_W * 0.33, BODY_W * 0.33, BODY_W * 0.34])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("TOPPADDING", (0, 0), (-1, -1), 10)]))
    return table


def render(doc: RepairOrderDocument) -> bytes:
    """The repair order as PDF bytes."""
    t = Translator(doc.language)
    out = io.BytesIO()

    def footer(canvas: Canvas, _template: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(colors.HexColor("#777777"))
        canvas.drawString(MARGIN, 8 * mm, f"{doc.site_name}  {t('documents.number')} {doc.number}".replace("·", "・"))
        canvas.drawRightString(PAGE_W - MARGIN, 8 * mm, t("documents.page", page=canvas.getPageNumber()))
        canvas.restoreState()

    template = SimpleDocTemplate(out, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=12 * mm,
                                 bottomMargin=14 * mm, title=f"{t('documents.title')} {doc.number}",
                                 author=doc.site_name, subject=doc.vehicle.plate, creator="shopfloor")
    story: list[Flowable] = [_header(doc, t), HRFlowable(width="100%", thickness=0.8, color=GRID),
                             *_groups(doc, t), *_estimate(doc.estimate, t), *_walkaround(doc.walkaround, t),
                             *_signatures(doc.signatures, t), _closing(doc, t)]
    template.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
