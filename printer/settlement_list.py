"""The settlement list (结算清单, JT/T 1133) on the reception printer: the shop with its licence, the customer and the
vehicle, the dates, every item with its hours and every part with its number, the amounts in CNY with what others
pay, the payments, the repair's warranty and lines for the signatures. Laid out by paper width like the estimate
slip; Chinese as GB18030 (or GBK)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from shopfloor.documents.settlement_data import SettlementList, capital_amount
from shopfloor.i18n import Translator
from shopfloor.printer.escpos_text import ALIGN_CENTER, CJK_ENCODINGS
from shopfloor.printer.ticket import TIME_FORMAT, PrinterProfile, _Job

DAY = "%Y-%m-%d"
STAMP = "%Y-%m-%d %H:%M"


def _date(at: datetime | None, t: Translator) -> str:
    return at.strftime(STAMP) if at else t("settlement_list.not_yet")


def _amount(value: str) -> str:
    return f"{Decimal(value):,.2f}"


def render(document: dict[str, Any], profile: PrinterProfile, reprint: bool, reprinted_at: datetime | None) -> bytes:
    """The ESC/POS job from the JSON document kept with the print job (PrintService.register_document's renderer)."""
    return render_list(SettlementList.from_json(document), profile, reprint=reprint, reprinted_at=reprinted_at)


def render_list(data: SettlementList, profile: PrinterProfile, *, reprint: bool = False,
                reprinted_at: datetime | None = None) -> bytes:
    if profile.encoding not in CJK_ENCODINGS and data.language != "en":
        raise ValueError(f"printer {profile.name} prints ASCII only: its settlement lists need language 'en'")
    t = Translator(data.language)
    job = _Job(profile)

    if reprint:
        job.wrapped(t("settlement_list.reprint"), size=2, strong=True, alignment=ALIGN_CENTER)
        when = reprinted_at or datetime.now()
        job.line(f"{t('settlement_list.reprinted_at')} {when.strftime(TIME_FORMAT)}", alignment=ALIGN_CENTER)
        job.rule("=")

    job.wrapped(data.site_name, size=2, strong=True, alignment=ALIGN_CENTER)
    job.wrapped(t("settlement_list.title"), strong=True, alignment=ALIGN_CENTER)
    for label, value in (("licence", data.licence_number), ("address", data.address), ("phone", data.phone)):
        if value:
            job.pair(t(f"settlement_list.{label}"), value)
    job.rule()
    job.big_field(t("settlement_list.number"), data.number)
    job.big_field(t("settlement_list.plate"), data.plate)
    job.pair(t("settlement_list.customer"), data.customer)
    if data.customer_phone:
        job.pair(t("settlement_list.customer_phone"), data.customer_phone)
    job.pair(t("settlement_list.vin_short"), data.vin)
    if data.model:
        job.pair(t("settlement_list.model"), data.model)
    if data.mileage_km is not None:
        job.pair(t("settlement_list.mileage"), t("settlement_list.mileage_value", km=f"{data.mileage_km:,}"))
    job.pair(t("settlement_list.date_in"), _date(data.date_in, t))
    job.pair(t("settlement_list.settled_at"),
             _date(data.settled_at, t) if data.settled_at else t("settlement_list.not_settled"))
    job.pair(t("settlement_list.date_out"), _date(data.date_out, t))
    job.pair(t("settlement_list.category"), t(f"settlement_list.category_name.{data.category}"))
    job.rule()

    job.pair(t("settlement_list.items_group"), t("settlement_list.col_labour"), strong=True)
    for item in data.items:
        job.wrapped(item.description)
        detail = f"  {item.hours} {t('settlement_list.hours_unit')} × {_amount(item.rate)}"
        if item.payer != "customer":
            detail += f" [{t(f'documents.payer.{item.payer}')}]"
        job.pair(detail, _amount(item.amount))
    if not data.items:
        job.line(f"  {t('settlement_list.no_items')}")
    job.pair(t("settlement_list.parts_group"), t("settlement_list.col_amount"), strong=True)
    for part in data.parts:
        job.wrapped(part.name)
        detail = f"  {part.number + ' ' if part.number else ''}{part.quantity} × {_amount(part.unit_price)}"
        if part.payer != "customer":
            detail += f" [{t(f'documents.payer.{part.payer}')}]"
        job.pair(detail, _amount(part.amount))
    if not data.parts:
        job.line(f"  {t('settlement_list.no_items')}")
    job.rule()

    job.pair(t("settlement_list.labour_total"), _amount(data.labour_total))
    job.pair(t("settlement_list.parts_total"), _amount(data.parts_total))
    job.pair(t("settlement_list.other_total"), _amount(data.other_total))
    if Decimal(data.discount):
        job.pair(t("settlement_list.discount"), f"-{_amount(data.discount)}")
    job.pair(t("settlement_list.total"), _amount(data.total), strong=True)
    if profile.encoding in CJK_ENCODINGS:  # the capitals (大写金额) beside the total, where the paper can print them
        job.wrapped(f"{t('settlement_list.capitals')}{'：' if data.language != 'en' else ': '}"
                    f"{capital_amount(data.total)}")
    for payer, amount in data.payer_totals:
        job.pair(f"  {t('settlement_list.borne_by', payer=t(f'documents.payer.{payer}'))}", _amount(amount))
    job.pair(f"{t('settlement_list.to_pay')} CNY", _amount(data.to_pay), strong=True)
    for payment in data.payments:
        method = t(f"settlement_list.method.{payment.method}")
        if payment.kind == "refund":
            job.pair(f"  {t('settlement_list.refund')} {method} {payment.at[5:]}", f"-{_amount(payment.amount)}")
        else:
            job.pair(f"  {method} {payment.at[5:]}", _amount(payment.amount))
    job.pair(t("settlement_list.paid"), _amount(data.paid), strong=True)
    if Decimal(data.left) > 0:
        job.pair(t("settlement_list.left"), _amount(data.left), strong=True)
    job.rule()

    job.line(t("settlement_list.warranty"), strong=True)
    job.wrapped(t("settlement_list.warranty_value", days=data.warranty_days, km=f"{data.warranty_km:,}"))
    job.rule()
    colon = ": " if data.language == "en" else "："
    job.line()
    job.line(f"{t('settlement_list.customer_signature')}{colon}________________")
    job.line()
    job.line(f"{t('settlement_list.cashier')}{colon}{data.cashier or '________________'}")
    return job.finish()
