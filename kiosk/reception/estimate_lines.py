"""The estimate tab: the priced lines (labour: flat-rate hours × the rate; parts from the catalogue), who pays each
line, the discount with its reason, the totals in CNY, the promised time, and the customer's choices (keep the
replaced parts, how to follow up, whether they leave the car). Editable until the customer signs; a signed version
is read-only until the advisor opens it for a change, which then needs a new signature."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from nicegui import ui

from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import DomainError
from shopfloor.domain.walkaround import FollowupChannel, Payer
from shopfloor.kiosk.common import frame
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.reception.estimate_format import as_datetime, money, quantity
from shopfloor.kiosk.reception.estimate_parts import AddPartDialog

if TYPE_CHECKING:
    from shopfloor.kiosk.reception.estimate_page import EstimateDesk, Loaded
    from shopfloor.services.reception.estimate import EstimateLine, EstimateView

COLUMNS = "grid-template-columns: minmax(0, 1fr) 4.5rem 5.75rem 6.25rem 8.25rem 2.5rem"
TOGGLE = "no-caps spread unelevated color=grey-2 text-color=grey-9 toggle-color=primary"


def grouped(lines: list[EstimateLine]) -> list[tuple[EstimateLine, bool]]:
    """Each labour line followed by its parts (indented: True); parts of no labour line last."""
    labour = [line for line in lines if line.kind == "labour"]
    parts = [line for line in lines if line.kind != "labour"]
    out: list[tuple[EstimateLine, bool]] = []
    for line in labour:
        out.append((line, False))
        out.extend((p, True) for p in parts if p.job_line_id is not None and p.job_line_id == line.job_line_id)
    placed = {id(p) for p, _ in out}
    out.extend((p, False) for p in parts if id(p) not in placed)
    return out


class EstimateTab:
    def __init__(self, desk: EstimateDesk) -> None:
        self.desk, self.t = desk, desk.t
        # a refusal said on the line the advisor changed (its payer), kept until their next change is stored
        self.line_refusals: dict[int, str] = {}

    def build(self) -> None:
        with ui.row().classes("w-full no-wrap gap-4 items-start"):
            self.lines = ui.column().classes("w-[63%] gap-2").mark("estimate-lines")
            self.side = ui.column().classes("w-[37%] gap-3").mark("estimate-side")

    def editable(self, est: EstimateView) -> bool:
        return (not est.signed or self.desk.editing) and self.desk.user.may(Permission.RECEPTION)

    def draw(self, data: Loaded) -> None:
        self._draw_lines(data.estimate)
        self._draw_side(data)

    # -- the lines ------------------------------------------------------------------------------------------------
    def _draw_lines(self, est: EstimateView) -> None:
        t = self.t
        editable = self.editable(est)
        self.lines.clear()
        with self.lines:
            if est.signed and not self.desk.editing:
                with ui.row().classes("w-full items-center justify-between no-wrap bg-green-1 rounded px-3 py-2") \
                        .mark("estimate-locked"):
                    with ui.row().classes("items-center gap-2 no-wrap"):
                        ui.icon("lock", color="positive", size="sm")
                        ui.label(t("estimate.locked", version=est.version, signer=est.signer or "",
                                   time=self.desk.when(est.signed_at))).classes("text-base")
                    if self.desk.user.may(Permission.RECEPTION):
                        ui.button(t("estimate.edit"), icon="edit", on_click=self._unlock) \
                            .props("flat dense color=primary data-testid=estimate-unlock").mark("estimate-unlock")
            elif est.consent == "decision":
                # the customer's decision on the additional work is their consent to it: no signature is due
                with ui.row().classes("w-full items-start gap-2 no-wrap bg-green-1 rounded px-3 py-2") \
                        .mark("estimate-consented"):
                    ui.icon("how_to_reg", color="positive", size="sm")
                    sep = "；" if t.lang == "zh-CN" else "; "
                    ui.label(t("estimate.consented", version=est.version, decisions=sep.join(est.consented_by))) \
                        .classes("text-base text-green-10 line-clamp-2").props("data-testid=estimate-consented") \
                        .tooltip(t("estimate.changes_whole"))
            elif est.changes:
                with ui.row().classes("w-full items-start gap-2 no-wrap bg-orange-1 rounded px-3 py-2") \
                        .mark("estimate-changes"):
                    ui.icon("edit_note", color="orange-9", size="sm")
                    ui.label(t("estimate.needs_signature_for", version=est.version,
                               changes="；".join(est.changes) if t.lang == "zh-CN" else "; ".join(est.changes))) \
                        .classes("text-base text-orange-10 line-clamp-2").props("data-testid=estimate-changes") \
                        .tooltip(t("estimate.changes_whole"))
            with ui.card().classes("w-full p-0 gap-0").props("flat bordered"):
                with ui.element("div").classes("grid w-full items-center gap-x-3 px-3 py-2 bg-grey-2 text-sm "
                                               "text-grey-8 font-medium").style(COLUMNS):
                    for key in ("item", "quantity", "unit_price", "amount", "payer"):
                        ui.label(t(f"estimate.col.{key}")).classes("text-right" if key in (
                            "quantity", "unit_price", "amount") else "")
                    ui.label("")
                if not est.lines:
                    ui.label(t("estimate.no_lines")).classes("px-3 py-6 text-grey-7 text-lg").mark("estimate-empty")
                # the totals stay in view under a long order: the lines scroll
                with ui.element("div").classes("w-full overflow-y-auto").style("max-height: 21rem"):
                    for line, nested in grouped(est.lines):
                        self._line(line, nested, editable)
            self._totals(est)

    def _line(self, line: EstimateLine, nested: bool, editable: bool) -> None:
        t = self.t
        labour = line.kind == "labour"
        row = ui.element("div").classes("grid w-full items-center gap-x-3 px-3 py-1 border-t border-gray-200 "
                                        + ("min-h-[2.5rem] bg-gray-50" if nested else "min-h-[3.25rem]")).style(COLUMNS)
        set_attrs(row, data_kind=line.kind, data_job_line=line.job_line_id, data_payer=line.payer)
        row.mark("estimate-line")
        with row:
            with ui.row().classes("items-baseline gap-2 no-wrap min-w-0" + (" pl-6" if nested else "")):
                ui.icon("build" if labour else "settings", size="xs").classes("text-grey-6 self-center")
                ui.label(line.description).classes("truncate " + ("text-base font-medium" if labour else "text-sm"))
                if line.code:
                    ui.label(line.code).classes("text-xs text-grey-6 whitespace-nowrap")
                if labour and editable and line.job_line_id is not None:
                    ui.button(t("estimate.part.open"), icon="add",
                              on_click=lambda ln=line: AddPartDialog(self.desk, ln).open()) \
                        .props("flat dense no-caps size=sm color=primary data-testid=add-part") \
                        .classes("self-center shrink-0").mark(f"add-part-{line.job_line_id}")
            unit = t("estimate.hours_unit") if labour else ""
            ui.label(f"{quantity(line.quantity)}{unit}").classes("text-right text-base")
            ui.label(money(line.unit_price)).classes("text-right text-base text-grey-8")
            amount = ui.label(money(line.amount)).classes("text-right text-base font-medium")
            if line.payer != Payer.CUSTOMER:
                amount.classes("text-grey-6")
            if labour and editable and line.job_line_id is not None:
                options = {p.value: t(f"estimate.payer.{p.value}") for p in Payer}
                ui.select(options, value=line.payer,
                          on_change=lambda e, jl=line.job_line_id: self._payer(jl, e.value)) \
                    .props("outlined dense options-dense data-testid=payer").classes("w-full") \
                    .mark(f"payer-{line.job_line_id}")
            elif nested:
                ui.label("")  # a part is paid by whoever pays its line
            else:
                ui.badge(t(f"estimate.payer.{line.payer}"),
                         color="grey-6" if line.payer == Payer.CUSTOMER else "deep-purple-5") \
                    .props("outline").classes("justify-self-start text-sm")
            if labour and editable and line.job_line_id is not None:
                ui.button(icon="remove_circle_outline",
                          on_click=lambda ln=line: self._remove(ln)) \
                    .props("flat round color=negative data-testid=remove-line").tooltip(t("estimate.remove")) \
                    .mark(f"remove-{line.job_line_id}")
            else:
                ui.label("")
            refusal = self.line_refusals.get(line.job_line_id) if labour else None
            if refusal:
                with ui.row().classes("items-center gap-1 no-wrap pb-1").style("grid-column: 1 / -1"):
                    ui.icon("block", color="negative", size="xs")
                    ui.label(refusal).classes("text-sm text-negative font-medium") \
                        .props("data-testid=line-refusal").mark(f"line-refusal-{line.job_line_id}")

    def _totals(self, est: EstimateView) -> None:
        """One band under the lines (a long order keeps them in view): the parts of the total, then in large what
        the customer pays."""
        t = self.t
        figures: list[tuple[str, str, str]] = [
            ("labour_total", t("estimate.labour_total"), money(est.labour_total)),
            ("parts_total", t("estimate.parts_total"), money(est.parts_total))]
        if est.discount:
            reason = f"（{est.discount_reason}）" if t.lang == "zh-CN" else f" ({est.discount_reason})"
            figures.append(("discount", t("estimate.discount") + (reason if est.discount_reason else ""),
                            money(-Decimal(str(est.discount)))))
        figures.append(("total", t("estimate.total"), money(est.total)))
        # what warranty, insurance or the site itself pay: in the total, not in the customer's part
        for payer, amount in sorted((est.payer_totals or {}).items()):
            figures.append((f"payer-{payer}", t("estimate.paid_by", payer=t(f"estimate.payer.{payer}")),
                            money(amount)))
        with ui.card().classes("w-full py-2 px-4").props("flat bordered").mark("estimate-totals"), \
                ui.row().classes("w-full items-center justify-between no-wrap gap-4"):
            with ui.row().classes("items-start gap-5 no-wrap min-w-0"):
                for key, label, value in figures:
                    with ui.column().classes("gap-0 min-w-0"):
                        ui.label(label).classes("text-xs text-grey-7 whitespace-nowrap truncate")
                        ui.label(value).classes("text-base whitespace-nowrap" + (
                            " font-bold" if key == "total" else " text-grey-7" if key.startswith("payer-") else "")) \
                            .mark(f"estimate-{key}")
            with ui.column().classes("gap-0 items-end shrink-0"):
                ui.label(t("estimate.customer_total")).classes("text-sm font-bold text-grey-9")
                ui.label(money(est.customer_total)).classes("text-2xl font-bold text-primary whitespace-nowrap") \
                    .props("data-testid=estimate-customer-total").mark("estimate-customer-total")

    # -- the side: discount, promise, the customer's choices --------------------------------------------------------
    def _draw_side(self, data: Loaded) -> None:
        t, est = self.t, data.estimate
        editable = self.editable(est)
        self.side.clear()
        with self.side:
            self._promise(data)
            with ui.card().classes("w-full gap-2").props("flat bordered").mark("estimate-discount"):
                ui.label(t("estimate.discount_title")).classes("text-base font-bold")
                limit = self.desk.reception.estimate.ctx.settings.reception.max_discount_percent
                with ui.row().classes("w-full no-wrap gap-2 items-start"):
                    self.discount = ui.input(t("estimate.discount_amount"),
                                             value=f"{Decimal(str(est.discount or 0)):.2f}") \
                        .props('outlined dense inputmode=decimal prefix="¥" data-testid=discount-amount') \
                        .classes("w-32").mark("discount-amount")
                    self.reason = ui.input(t("estimate.discount_reason"), value=est.discount_reason or "") \
                        .props("outlined dense maxlength=200 data-testid=discount-reason").classes("grow") \
                        .mark("discount-reason")
                self.discount_message = ui.label(t("estimate.discount_limit", percent=f"{limit:g}")) \
                    .classes("text-sm text-grey-7").props("data-testid=discount-message").mark("discount-message")
                apply = ui.button(t("estimate.discount_apply"), icon="sell", on_click=self._discount) \
                    .props("outline dense data-testid=discount-apply").classes("self-end").mark("discount-apply")
                for element in (self.discount, self.reason, apply):
                    element.set_enabled(editable)
            with ui.card().classes("w-full gap-1").props("flat bordered").mark("estimate-choices"):
                ui.label(t("estimate.keep_parts")).classes("text-base font-bold")
                keep = ui.toggle({True: t("estimate.yes"), False: t("estimate.no")},
                                 value=est.keep_replaced_parts,
                                 on_change=lambda e: self._update(keep_replaced_parts=e.value)) \
                    .props(TOGGLE + " data-testid=keep-parts").classes("w-full").mark("keep-parts")
                ui.label(t("estimate.followup")).classes("text-base font-bold pt-2")
                channel = ui.toggle({c.value: t(f"estimate.channel.{c.value}") for c in FollowupChannel},
                                    value=est.followup_channel,
                                    on_change=lambda e: self._update(followup_channel=e.value)) \
                    .props(TOGGLE + " data-testid=followup").classes("w-full").mark("followup")
                # as the handover record has it: the advisor's answer, else what the appointment said
                leaving = data.handover.content.get("customer_leaves_car") if data.handover is not None else None
                leaves = ui.checkbox(t("estimate.leaves_car"), value=bool(leaving),
                                     on_change=lambda e: self._update(customer_leaves_car=bool(e.value))) \
                    .classes("pt-1 text-base").props("data-testid=leaves-car").mark("leaves-car")
                for choice in (keep, channel, leaves):
                    choice.set_enabled(editable)

    def _promise(self, data: Loaded) -> None:
        t, ro = self.t, data.ro
        promised = data.estimate.promised_at or ro.get("promised_at")
        with ui.card().classes("w-full gap-1").props("flat bordered").mark("estimate-promise"):
            with ui.row().classes("w-full items-center justify-between no-wrap"):
                with ui.column().classes("gap-0"):
                    ui.label(t("estimate.promised")).classes("text-sm text-grey-7")
                    ui.label(self.desk.when(promised)).classes("text-2xl font-bold").mark("promised-at")
                if self.desk.user.may(Permission.PROMISE) and ro["status"] not in ("ready", "delivered", "cancelled"):
                    ui.button(t("estimate.promise_change"), icon="update",
                              on_click=lambda: self._promise_dialog(data)) \
                        .props("outline data-testid=promise-change").mark("promise-change")
            projected = as_datetime(ro.get("projected_ready_at"))
            if projected is not None:
                promise = as_datetime(promised)
                late = promise is not None and projected > promise  # the customer is told before they sign
                ui.label(t("estimate.projected", time=self.desk.when(projected))) \
                    .classes("text-sm " + ("text-orange-9 font-medium" if late else "text-grey-7")) \
                    .mark("projected-at")

    async def _promise_dialog(self, data: Loaded) -> None:
        t, clock = self.t, self.desk.clock
        start = as_datetime(data.estimate.promised_at or data.ro.get("promised_at")) or clock.now()
        start = max(start.astimezone(clock.tz), clock.now().astimezone(clock.tz) + timedelta(minutes=15))
        with ui.dialog() as dialog, ui.card().classes("w-[36rem] gap-2"):
            ui.label(t("estimate.promise_title")).classes("text-xl")
            with ui.row().classes("w-full no-wrap gap-2"):
                day = ui.input(t("estimate.promise_day"), value=start.date().isoformat()) \
                    .props("outlined type=date").classes("w-1/2").mark("promise-day")
                # 24-hour HH:MM, as check-in's: the browser's time input shows AM/PM in some locales
                at = ui.input(t("estimate.promise_time"), value=f"{start:%H}:{start.minute // 15 * 15:02d}") \
                    .props('outlined mask="##:##" inputmode=numeric').classes("w-1/2").mark("promise-time")
            reason = ui.input(t("estimate.promise_reason"), value=t("estimate.promise_reason_default")) \
                .props("outlined maxlength=200").classes("w-full").mark("promise-reason")
            told = ui.checkbox(t("estimate.customer_told"), value=True).mark("promise-told")
            with ui.row().classes("w-full justify-end"):
                ui.button(t("estimate.back"), on_click=dialog.close).props("flat")
                ui.button(t("estimate.confirm"), on_click=lambda: dialog.submit(True)) \
                    .props("unelevated data-testid=promise-confirm").mark("promise-confirm")
        if not await dialog:
            return
        try:
            when = datetime.combine(date.fromisoformat(day.value), time.fromisoformat(at.value), tzinfo=clock.tz)
        except (TypeError, ValueError):
            self.desk.say(t("estimate.promise_needs_time"), "warning")
            return
        if not frame.allowed(t, self.desk.user, Permission.PROMISE):
            return
        done = await self.desk.call(self.desk.page.promises.promise, self.desk.number, when, reason.value or "",
                                    actor=self.desk.user.actor, customer_told=bool(told.value))
        if done is not None:
            self.desk.say(t("estimate.promise_saved", time=self.desk.when(when)), "positive")
            await self.desk.refresh()

    # -- changes ----------------------------------------------------------------------------------------------------
    async def _unlock(self) -> None:
        self.desk.editing = True
        self.desk.say(self.t("estimate.edit_note"), "info")
        self.desk.draw()

    def _allowed(self) -> bool:
        return frame.allowed(self.t, self.desk.user, Permission.RECEPTION)

    async def _update(self, **change: Any) -> None:
        if not self._allowed():
            return
        user = self.desk.user
        done = await self.desk.call(self.desk.reception.estimate.update, self.desk.number, actor=user.actor,
                                    roles=user.roles, **change)
        if done is not None:
            self.line_refusals = {}
            await self.desk.refresh()

    async def _payer(self, job_line_id: int, payer: str) -> None:
        """A refusal (the discount would be more than the customer's part left, or over the advisor's limit on it)
        is said on that line, and the line shows its stored payer again."""
        if not self._allowed() or self.desk.data is None:
            return
        user = self.desk.user
        try:
            await io(self.desk.reception.estimate.update, self.desk.number, actor=user.actor, roles=user.roles,
                     payers={job_line_id: payer})
        except DomainError as exc:
            self.line_refusals = {job_line_id: exc.message(self.t.lang)}
            self._draw_lines(self.desk.data.estimate)  # the stored estimate: the select back on its payer
            return
        self.line_refusals = {}
        await self.desk.refresh()

    async def _discount(self) -> None:
        t = self.t
        text = (self.discount.value or "").strip().replace(",", "").replace("¥", "") or "0"
        try:
            amount = Decimal(text)
        except InvalidOperation:
            amount = Decimal(-1)
        if not amount.is_finite() or amount < 0:
            self._discount_refused(t("estimate.discount_not_amount"))
            return
        reason = (self.reason.value or "").strip()
        if amount > 0 and not reason:
            self._discount_refused(t("estimate.discount_needs_reason"))
            return
        if not self._allowed():
            return
        user = self.desk.user
        try:
            await io(self.desk.reception.estimate.update, self.desk.number, actor=user.actor,
                         roles=user.roles, discount=amount.quantize(Decimal("0.01")), discount_reason=reason)
        except DomainError as exc:
            # the manager's limit (or another rule): said where the advisor typed it, and nothing is changed
            self._discount_refused(exc.message(t.lang))
            return
        self.line_refusals = {}
        self.desk.say(t("estimate.discount_saved", amount=money(amount)), "positive")
        await self.desk.refresh()

    def _discount_refused(self, text: str) -> None:
        self.discount_message.text = text
        self.discount_message.classes(replace="text-sm text-negative font-medium")
        self.desk.say(text, "negative")

    async def _remove(self, line: EstimateLine) -> None:
        """Asked in a dialog that stays open until the line is off: a refusal (work on it started, or the discount
        would be more than what is left to the customer) is said there, and the estimate is left as it was."""
        t = self.t
        with ui.dialog() as dialog, ui.card().classes("w-[36rem] gap-3"):
            ui.label(t("estimate.remove_title")).classes("text-xl")
            ui.label(line.description).classes("text-lg font-medium")
            ui.label(t("estimate.remove_note")).classes("text-grey-8")
            refusal = ui.label("").classes("text-base text-negative font-medium") \
                .props("data-testid=remove-refusal").mark("remove-refusal")
            refusal.set_visibility(False)
            with ui.row().classes("w-full justify-end"):
                ui.button(t("estimate.back"), on_click=dialog.close).props("flat data-testid=remove-back")
                confirm = ui.button(t("estimate.remove_confirm"), icon="remove_circle") \
                    .props("unelevated color=negative data-testid=remove-confirm").mark("remove-confirm")

        async def remove() -> None:
            if not self._allowed() or line.job_line_id is None:
                dialog.close()
                return
            confirm.set_enabled(False)
            user = self.desk.user
            try:
                await io(self.desk.reception.estimate.remove_line, self.desk.number, line.job_line_id,
                         actor=user.actor, roles=user.roles)
            except DomainError as exc:
                refusal.text = exc.message(t.lang)
                refusal.set_visibility(True)
                return  # the confirm stays off: the same answer would come again
            dialog.close()
            self.line_refusals = {}
            self.desk.say(t("estimate.removed", line=line.description), "positive")
            await self.desk.refresh()

        confirm.on_click(remove)
        await dialog
