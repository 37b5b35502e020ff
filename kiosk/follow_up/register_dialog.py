"""Taking a complaint down at the desk: the order (its number, or a plate: the car's last visit), the class, the
severity and, when important, why; the customer's words. A refusal keeps the dialog and what was typed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.domain.aftersales import ComplaintSource, Severity
from shopfloor.domain.workshop import RO_NUMBER_RE
from shopfloor.kiosk.calls.common import call
from shopfloor.kiosk.follow_up.common import TEXT_MAX, class_picker, reason_options

if TYPE_CHECKING:
    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.session import KioskUser
    from shopfloor.services.aftercare.complaints import ComplaintService
    from shopfloor.services.customers import CustomerService


class RegisterDialog:
    def __init__(self, complaints: ComplaintService, customers: CustomerService, t: Translator, user: KioskUser, *,
                 on_done: Callable[[], Awaitable[None]]) -> None:
        self.complaints = complaints
        self.customers = customers
        self.t = t
        self.user = user
        self.on_done = on_done

    async def open(self) -> None:
        t = self.t
        with ui.dialog() as dialog, ui.card().classes("w-[60rem] max-w-full gap-3").mark("complaint-dialog"):
            ui.label(t("complaints.page.register_title")).classes("text-xl font-bold")
            with ui.row().classes("w-full items-center no-wrap gap-3"):
                order = ui.input(t("complaints.page.order_field"), placeholder=t("complaints.page.order_hint")) \
                    .props("outlined clearable").classes("w-80").mark("complaint-order")
                found = ui.label("").classes("text-grey-8 grow").mark("complaint-order-found")
            ui.label(t("complaints.page.class_title")).classes("text-base font-bold")
            problem = class_picker(t, "complaint-class")
            with ui.row().classes("w-full items-center no-wrap gap-3"):
                severity = ui.toggle({s.value: t(f"complaints.page.severity.{s.value}") for s in Severity},
                                     value=Severity.NORMAL.value) \
                    .props("no-caps toggle-color=negative").classes("text-base").mark("complaint-severity")
                because = ui.select(reason_options(t), label=t("complaints.page.because")) \
                    .props("outlined dense").classes("w-72").mark("complaint-because")
                because.bind_visibility_from(severity, "value", value=Severity.IMPORTANT.value)
                hint = ui.label(t("complaints.page.important_hint")).classes("text-negative text-sm")
                hint.bind_visibility_from(severity, "value", value=Severity.IMPORTANT.value)
            text = ui.textarea(t("complaints.page.text_field")) \
                .props(f"outlined autogrow maxlength={TEXT_MAX}").classes("w-full").mark("complaint-text-field")

            async def save() -> None:
                known, number = await self._order(order.value or "", found)
                if not known:
                    return
                if not problem.value:
                    ui.notify(t("follow_up.page.pick_class"), type="warning", position="center", classes="text-lg")
                    return
                view = await call(t, self.complaints.register, actor=self.user.actor,
                                  problem_class=str(problem.value), severity=str(severity.value),
                                  text=(text.value or "").strip(), repair_order=number or None,
                                  source=ComplaintSource.DESK.value,
                                  important_because=because.value if severity.value == Severity.IMPORTANT.value
                                  else None)
                if view is None:
                    return
                ui.notify(t("complaints.page.registered", number=view.id,
                            time=f"{view.acknowledge_by.astimezone(self.complaints.ctx.tz):%m-%d %H:%M}"),
                          type="positive", multi_line=True)
                dialog.submit(True)

            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(t("complaints.page.back"), on_click=lambda: dialog.submit(False)).props("flat")
                ui.button(t("complaints.page.register_save"), icon="add_comment", on_click=save) \
                    .props("unelevated color=negative size=lg").mark("complaint-save")
        saved = await dialog
        dialog.delete()
        if saved:
            await self.on_done()

    async def _order(self, typed: str, found: ui.label) -> tuple[bool, str]:
        """Whether the order was found, and which: the number as typed, or a plate's last visit here; "" for none (a
        complaint about no visit in particular). Nothing matching is said on the dialog."""
        t = self.t
        text = typed.strip().upper()
        if not text or RO_NUMBER_RE.match(text):
            return True, text
        hits = await call(t, self.customers.search, text, 5) or []
        plain = text.replace("·", "").replace(" ", "")
        hit = next((h for h in hits if str(h.get("plate", "")).upper() == plain), None)
        if hit is None:
            found.text = t("complaints.page.order_none", text=typed.strip()[:20])
            found.classes(replace="text-negative grow")
            return False, ""
        overview = await call(t, self.customers.overview, int(hit["vehicle_id"]))
        visits = (overview or {}).get("visits") or []
        if not visits:
            found.text = t("complaints.page.order_no_visit", plate=hit.get("plate_display", plain))
            found.classes(replace="text-negative grow")
            return False, ""
        number = str(visits[0]["number"])
        found.text = t("complaints.page.order_is", plate=hit.get("plate_display", plain), number=number)
        found.classes(replace="text-grey-8 grow")
        return True, number
