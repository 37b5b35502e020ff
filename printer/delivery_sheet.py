"""The delivery sheet (交车单) handed over with the car: the site, the car and order, its odometer reading, when and
by whom it was delivered, what was done, what was paid and how (each method), and the next service's date and
mileage printed big: the reminder that brings the car back (domain.md §4). Rendered from the JSON document kept
with the print job, so a reprint prints the same sheet, marked REPRINT."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shopfloor.i18n import Translator
from shopfloor.printer.escpos_text import ALIGN_CENTER, CJK_ENCODINGS
from shopfloor.printer.ticket import TIME_FORMAT, PrinterProfile, _Job

FIELDS = ("site_name", "ro_number", "plate", "customer", "delivered_at", "delivered_by", "work", "paid",
          "next_service_on", "next_service_km", "basis", "hotline", "language")
# odometer_km and payments came later: a sheet printed before them is reprinted without them


def render_delivery_sheet(document: dict[str, Any], profile: PrinterProfile, reprint: bool = False,
                          reprinted_at: datetime | None = None) -> bytes:
    missing = [key for key in FIELDS if key not in document]
    if missing:
        raise ValueError(f"a delivery sheet needs {', '.join(missing)}")
    lang = str(document["language"])
    if profile.encoding not in CJK_ENCODINGS:
        lang = "en"  # an ASCII printer prints the English sheet (names may come out as "?")
    t = Translator(lang)
    job = _Job(profile)
    if reprint:
        job.wrapped(t("delivery.sheet.reprint"), size=2, strong=True, alignment=ALIGN_CENTER)
        when = reprinted_at or datetime.now()
        job.line(f"{t('delivery.sheet.reprinted_at')} {when.strftime(TIME_FORMAT)}", alignment=ALIGN_CENTER)
        job.rule("=")
    job.wrapped(str(document["site_name"]), size=2, strong=True, alignment=ALIGN_CENTER)
    job.wrapped(t("delivery.sheet.title"), strong=True, alignment=ALIGN_CENTER)
    job.rule()
    job.big_field(t("delivery.sheet.plate"), str(document["plate"]))
    job.pair(t("delivery.sheet.number"), str(document["ro_number"]))
    job.pair(t("delivery.sheet.customer"), str(document["customer"]))
    if document.get("odometer_km"):
        job.pair(t("delivery.sheet.odometer"), f"{document['odometer_km']} km")
    delivered = datetime.fromisoformat(str(document["delivered_at"]))
    job.pair(t("delivery.sheet.delivered_at"), delivered.strftime(TIME_FORMAT))
    job.pair(t("delivery.sheet.delivered_by"), str(document["delivered_by"]))
    job.rule()
    job.line(t("delivery.sheet.work"), strong=True)
    for line in document["work"]:
        job.wrapped(f"· {line}")
    job.rule()
    job.pair(f"{t('delivery.sheet.paid')} CNY", str(document["paid"]), strong=True)
    for payment in document.get("payments") or []:
        job.pair(f"  {t('settlement.method.' + str(payment['method']))}", str(payment["amount"]))
    job.rule("=")
    job.wrapped(t("delivery.sheet.next_service"), strong=True, alignment=ALIGN_CENTER)
    job.wrapped(str(document["next_service_on"]), size=2, strong=True, alignment=ALIGN_CENTER)
    km = document["next_service_km"]
    if km:
        job.wrapped(t("delivery.sheet.or_km", km=km), size=2, strong=True, alignment=ALIGN_CENTER)
        job.wrapped(t("delivery.sheet.whichever"), alignment=ALIGN_CENTER)
    if document["basis"]:
        job.wrapped(str(document["basis"]))
    job.rule("=")
    if document["hotline"]:
        job.wrapped(t("delivery.sheet.hotline", hotline=document["hotline"]), strong=True, alignment=ALIGN_CENTER)
    job.wrapped(t("delivery.sheet.thanks"), alignment=ALIGN_CENTER)
    return job.finish()
