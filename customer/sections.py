"""What the customer's page draws: the car's step and time (masked), and after the plate proof the walkaround marks on
the diagram, the estimate with what was signed, and the findings to approve or decline. Every value reaches the
browser as a label's text; only our own words go into props."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from nicegui import ui

from shopfloor.i18n import Translator
from shopfloor.kiosk.reception.estimate_format import money as kiosk_money
from shopfloor.services.reception.customer_page import CustomerView, MaskedView
from shopfloor.services.workshop.additional_work import FindingInfo
from shopfloor.services.workshop.photos import NAME_RE

STATIC_URL = "/customer-static"
DIAGRAM_URL = "/customer-diagram.svg"  # customer/photos.py serves it
STEPS = ("checked_in", "in_workshop", "quality_check", "ready")


def when(t: Translator, moment: datetime | None, tz: ZoneInfo, today: date) -> str:
    if moment is None:
        return "—"
    local = moment.astimezone(tz)
    clock = f"{local:%H:%M}"
    if local.date() == today:
        return t("customer_page.time.today", time=clock)
    if local.date() == today + timedelta(days=1):
        return t("customer_page.time.tomorrow", time=clock)
    return t("customer_page.time.day", month=local.month, day=local.day, time=clock)


def money(amount: Any) -> str:
    """As the advisor's kiosk writes amounts: ¥1,234.50, a discount -¥50.00."""
    return kiosk_money(Decimal(str(amount)))


def _amount(value: Any) -> str:
    """0.80 -> 0.8, 1.00 -> 1: hours and counts as people write them."""
    return f"{Decimal(str(value)).normalize():f}"


def status(t: Translator, view: MaskedView, tz: ZoneInfo, today: date) -> None:
    """The lounge's steps and the expected time."""
    with ui.column().classes("cp-card").mark("cp-status"):
        with ui.element("div").classes("cp-steps"):
            for n, key in enumerate(STEPS):
                word = t("customer_page.step.waiting") if n == 0 and view.step == 0 and view.status == "dispatched" \
                    else t(f"customer_page.step.{key}")
                state = "cp-done" if n < view.step else "cp-now" if n == view.step else ""
                ui.label(word).classes(f"cp-step {state}").mark(f"cp-step-{key}")
        if view.status == "delivered":
            ui.label(t("customer_page.time.delivered")).classes("cp-ok").mark("cp-delivered")
        elif view.status == "ready":
            ui.label(t("customer_page.time.ready")).classes("cp-ok").mark("cp-ready")
        elif view.promised_at is not None:
            ui.label(t("customer_page.time.promised", time=when(t, view.promised_at, tz, today))) \
                .classes("cp-expected").mark("cp-expected")
            if view.later_at is not None:
                ui.label(t("customer_page.time.later", time=when(t, view.later_at, tz, today))) \
                    .classes("cp-alert").mark("cp-later")
        elif view.projected_ready_at is not None:
            ui.label(t("customer_page.time.expected", time=when(t, view.projected_ready_at, tz, today))) \
                .classes("cp-expected").mark("cp-expected")
        if view.needs_customer and view.status not in ("ready", "delivered"):
            ui.label(t("customer_page.time.needs_you")).classes("cp-alert").mark("cp-needs-you")


def _photo_url(token: str, name: str | None) -> str | None:
    """The customer's photo route; None for a name that is not one of ours (it would not be served anyway)."""
    return f"/c/{token}/photos/{name}" if name and NAME_RE.fullmatch(name) else None


def _photo(url: str, big: Callable[[str], None]) -> None:
    ui.image(url).classes("cp-thumb").on("click", lambda: big(url)).mark("cp-photo")


def walkaround(t: Translator, view: CustomerView, token: str, big: Callable[[str], None]) -> None:
    with ui.column().classes("cp-card").mark("cp-walkaround"):
        ui.label(t("customer_page.walkaround.title")).classes("cp-title")
        if not view.marks:
            ui.label(t("customer_page.walkaround.none")).classes("cp-muted")
            return
        with ui.element("div").classes("cp-diagram").mark("cp-diagram"):
            ui.element("img").props(f'src="{DIAGRAM_URL}" alt=""')
            ui.label(t("customer_page.walkaround.front")).classes("cp-end").style("top: -1.1rem")
            ui.label(t("customer_page.walkaround.rear")).classes("cp-end").style("bottom: -1.1rem")
            for n, mark in enumerate(view.marks, 1):
                x, y = min(max(float(mark.x), 0.0), 1.0), min(max(float(mark.y), 0.0), 1.0)
                ui.label(str(n)).classes("cp-dot").style(f"left: {x * 100:.2f}%; top: {y * 100:.2f}%") \
                    .mark("cp-dot")
        ui.element("div").style("height: .6rem")
        for n, mark in enumerate(view.marks, 1):
            with ui.row().classes("w-full no-wrap items-center gap-3").mark("cp-mark"):
                with ui.column().classes("gap-0 min-w-0 grow"):
                    ui.label(t("customer_page.walkaround.mark", number=n, kind=t(f"customer_page.kind.{mark.kind}"),
                               position=t(f"customer_page.position.{mark.position}"))).classes("font-medium")
                    if mark.note:
                        ui.label(mark.note).classes("cp-muted")
                url = _photo_url(token, mark.photo)
                if url:
                    _photo(url, big)


def estimate(t: Translator, view: CustomerView, tz: ZoneInfo, today: date) -> None:
    with ui.column().classes("cp-card").mark("cp-estimate"):
        ui.label(t("customer_page.estimate.title")).classes("cp-title")
        est = view.estimate
        if est is None or not est.lines:
            ui.label(t("customer_page.estimate.none")).classes("cp-muted")
        else:
            for line in est.lines:
                with ui.column().classes("w-full gap-0").mark("cp-line"):
                    with ui.element("div").classes("cp-row"):
                        ui.label(line.description)
                        ui.label(money(line.amount))
                    details = t("customer_page.estimate.quantity", quantity=_amount(line.quantity),
                                price=money(line.unit_price))
                    if line.payer != "customer":
                        details += f" · {t(f'customer_page.estimate.payer_{line.payer}')}"
                    ui.label(f"{t(f'customer_page.estimate.{line.kind}')} · {details}").classes("cp-muted")
            _sum_row(t("customer_page.estimate.labour_total"), est.labour_total)
            _sum_row(t("customer_page.estimate.parts_total"), est.parts_total)
            if Decimal(str(est.discount)):
                _sum_row(t("customer_page.estimate.discount"), -Decimal(str(est.discount)))
            if view.settled:  # paid: what was paid and when, nothing more to ask
                with ui.element("div").classes("cp-row cp-total"):
                    ui.label(t("customer_page.estimate.paid"))
                    ui.label(money(view.paid)).mark("cp-paid")
                ui.label(t("customer_page.estimate.settled", time=when(t, view.settled_at, tz, today))) \
                    .classes("cp-ok").mark("cp-settled")
            else:
                with ui.element("div").classes("cp-row cp-total"):
                    ui.label(t("customer_page.estimate.customer_total"))
                    ui.label(money(est.customer_total)).mark("cp-customer-total")
            if view.settled or view.delivered:
                pass  # an unsigned version asks nothing of a customer who has paid or has the car back
            elif est.consent == "decision":  # their own approval of the work added is their consent: no pad needed
                ui.label(t("customer_page.estimate.added_by_decision")).classes("cp-muted").mark("cp-consented")
            elif not est.signed:
                ui.label(t("customer_page.estimate.not_signed")).classes("cp-muted").mark("cp-not-signed")
        # once paid or delivered, the versions nobody signed are no longer the customer's concern
        versions = [v for v in view.versions if v.signed_at or v.consent == "decision"] \
            if view.settled or view.delivered else list(view.versions)
        if versions:
            ui.label(t("customer_page.estimate.versions")).classes("font-medium pt-2")
            for v in versions:
                text = t("customer_page.estimate.signed", version=v.version, signer=v.signer,
                         time=when(t, v.signed_at, tz, today)) if v.signed_at else \
                    t("customer_page.estimate.by_decision", version=v.version) if v.consent == "decision" else \
                    t("customer_page.estimate.unsigned", version=v.version)
                ui.label(f"{text} · {money(v.customer_total)}").classes("cp-muted cp-version").mark("cp-version")


def next_service(t: Translator, view: CustomerView) -> None:
    """After the handover: the next service the advisor set (a date, a mileage, or both: whichever comes first)."""
    on, km = view.next_service_on, view.next_service_km
    if not view.delivered or (on is None and km is None):
        return
    day = t("customer_page.next.date", year=on.year, month=on.month, day=on.day, date=on.isoformat()) if on else ""
    mileage = f"{km:,}" if km is not None else ""
    text = t("customer_page.next.both", date=day, km=mileage) if on and km is not None else \
        t("customer_page.next.date_only", date=day) if on else t("customer_page.next.km_only", km=mileage)
    with ui.column().classes("cp-card").mark("cp-next-service"):
        ui.label(t("customer_page.next.title")).classes("cp-title")
        ui.label(text).classes("font-medium").mark("cp-next-due")
        ui.label(t("customer_page.next.hint")).classes("cp-muted")


def _sum_row(label: str, amount: Any) -> None:
    with ui.element("div").classes("cp-row"):
        ui.label(label).classes("cp-muted")
        ui.label(money(amount)).classes("cp-muted")


def finding_lines(t: Translator, f: FindingInfo) -> list[str]:
    """What the page says of a finding, below its description: the decision records exactly these lines."""
    lines = [t("customer_page.findings.hours", hours=f"{f.hours:g}", labour=money(f.labour_price))]
    for p in f.parts:
        name = " ".join(x for x in (p.name, p.number) if x)
        lines.append(t("customer_page.findings.part", part=name, quantity=f"{p.quantity:g}",
                       price=money(p.quantity * p.unit_price)) if p.unit_price is not None else
                     t("customer_page.findings.part_no_price", part=name, quantity=f"{p.quantity:g}"))
    lines.append(t("customer_page.findings.price", price=money(f.price)))
    return lines


def findings(t: Translator, view: CustomerView, token: str, tz: ZoneInfo, today: date,
             ask: Callable[[FindingInfo, str, list[str]], Any], big: Callable[[str], None]) -> None:
    pending = view.pending
    decided = [f for f in view.findings if f.status != "pending"]
    with ui.column().classes("cp-card").mark("cp-findings"):
        ui.label(t("customer_page.findings.title")).classes("cp-title")
        if not pending:
            ui.label(t("customer_page.findings.none")).classes("cp-muted").mark("cp-no-findings")
        for f in pending:
            lines = finding_lines(t, f)
            with ui.column().classes("cp-finding").mark(f"cp-finding-{f.id}"):
                with ui.row().classes("w-full no-wrap gap-3 items-start"):
                    with ui.column().classes("gap-1 min-w-0 grow"):
                        ui.label(f.description).classes("cp-finding-desc")
                        for line in lines[:-1]:
                            ui.label(line).classes("cp-muted")
                    url = _photo_url(token, f.photo)
                    if url:
                        _photo(url, big)
                ui.label(lines[-1]).classes("cp-price")
                with ui.element("div").classes("cp-buttons"):
                    ui.button(t("customer_page.findings.decline"), icon="close",
                              on_click=lambda x=f, shown=[f.description, *lines]: ask(x, "declined", shown)) \
                        .props("outline color=negative no-caps").mark(f"cp-decline-{f.id}")
                    ui.button(t("customer_page.findings.approve"), icon="check",
                              on_click=lambda x=f, shown=[f.description, *lines]: ask(x, "approved", shown)) \
                        .props("unelevated color=positive no-caps").mark(f"cp-approve-{f.id}")
        if decided:
            ui.label(t("customer_page.findings.decided_title")).classes("font-medium pt-2")
            for f in decided:
                with ui.element("div").classes("cp-row").mark(f"cp-decided-{f.id}"):
                    ui.label(f.description)
                    ui.label(t("customer_page.findings.via", status=t(f"customer_page.findings.{f.status}"),
                               time=when(t, f.decided_at, tz, today))) \
                        .classes("text-positive" if f.status == "approved" else "text-negative")
