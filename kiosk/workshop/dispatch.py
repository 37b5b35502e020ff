"""/workshop/dispatch: the foreman's job progress board (服务进程控制看板): technicians × the hours of the day.

The same browser component as the workshop wall (board/job_board.py), fed by the same bus states, but editable: a
car dragged (or tapped, then a technician tapped) onto a row is given to that technician through
DispatchService.dispatch. A broken rule (skill, absent, cannot finish before the promise) comes back with its
reason, and a typed reason dispatches anyway (logged as an override). "Propose" lists the best technicians with
why (DispatchService.proposals). Clockings the server closed at the end of a shift are confirmed here
(ClockingService.confirm): tap the hatched bar, or the list in the header.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from nicegui import ui
from nicegui.events import GenericEventArguments

from shopfloor.board import job_board
from shopfloor.board.cards import CardCache
from shopfloor.board.job_board import JobBoardView
from shopfloor.contract import topics
from shopfloor.domain.errors import DomainError
from shopfloor.domain.workshop import DispatchRule
from shopfloor.i18n import Translator
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.common.blocking import io
from shopfloor.services.workshop.assumed import AssumedClockings
from shopfloor.services.workshop.dispatch import MAX_REASON, DispatchRefused, Proposal

if TYPE_CHECKING:
    from shopfloor.board.store import BoardStore, State
    from shopfloor.clock import SiteClock
    from shopfloor.kiosk.common.frame import StaffFrame
    from shopfloor.kiosk.common.session import KioskUser
    from shopfloor.services.workshop.services import WorkshopServices
    from shopfloor.settings import Settings

PATH = "/workshop/dispatch"


class DispatchPage:
    def __init__(self, frame: StaffFrame, clock: SiteClock, settings: Settings, store: BoardStore, *,
                 workshop: WorkshopServices, assumed: AssumedClockings) -> None:
        self.frame = frame
        self.clock = clock
        self.settings = settings
        self.store = store
        self.workshop = workshop
        self.assumed = assumed
        # projections shared by every foreman's tab, as the wall screens share theirs
        self.cards = CardCache(job_board.order_card, settings.site.tz)
        self.rows = CardCache(job_board.technician_row, settings.site.tz)

    def register(self, path: str) -> None:
        ui.page(path, title="shopfloor · dispatch")(self.build)

    async def build(self, lang: str | None = None) -> None:
        signed_in = await self.frame.open(lang, PATH)
        if signed_in is None:
            return
        t, user = signed_in
        DispatchDesk(self, t, user).build()

    def config(self, t: Translator) -> dict[str, Any]:
        now = self.clock.now().astimezone(self.clock.tz)
        offset = now.utcoffset() or timedelta(0)
        return {"site": self.settings.site.name, "lang": t.lang, "now_ms": int(now.timestamp() * 1000),
                "tz_offset_min": int(offset.total_seconds() // 60), "day": now.date().isoformat(),
                "date_label": now.date().isoformat()} | job_board.hours_config(self.settings, editable=True)


class DispatchDesk:
    """One foreman's board in one browser tab."""

    def __init__(self, page: DispatchPage, t: Translator, user: KioskUser) -> None:
        self.page = page
        self.t = t
        self.user = user
        self.names: dict[str, str] = {}

    def build(self) -> None:
        t, page = self.t, self.page
        with ui.row().classes("w-full items-center gap-3 no-wrap px-1"):
            ui.label(t("jobboard.title")).classes("text-xl font-bold whitespace-nowrap") \
                .props("data-testid=dispatch-title")
            ui.label(t("dispatch.hint")).classes("text-sm text-grey-7 ellipsis")
            ui.space()
            self.assumed_button = ui.button(on_click=self.show_assumed).props("outline dense no-caps") \
                .props("data-testid=assumed-clockings").classes("px-3 whitespace-nowrap").mark("assumed-clockings")
        orders = page.store.states(topics.REPAIR_ORDERS)
        techs = page.store.states(topics.TECHNICIANS)
        page.cards.prune(set(orders))
        page.rows.prune(set(techs))
        cards = {k: c for k, s in orders.items() if (c := page.cards.card(k, s)) is not None and job_board.shown(c)}
        rows = {k: r for k, s in techs.items() if (r := page.rows.card(k, s)) is not None}
        self.names = {k: str(r["name"]) for k, r in rows.items()}
        self.view = JobBoardView(cards=cards, rows=rows, labels=job_board.labels(t), config=page.config(t)) \
            .mark("dispatch-board")
        self.view.on("assign", self.on_assign)
        self.view.on("propose", self.on_propose)
        self.view.on("confirm", self.on_confirm)
        page.store.changed.subscribe(self._changed)  # dropped with the page
        ui.timer(0.1, self.count_assumed, once=True)

    # -- following the bus --------------------------------------------------------------------------------------
    def _changed(self, kind: str, entity_id: str, state: State | None) -> None:
        if kind == topics.REPAIR_ORDERS:
            card = self.page.cards.card(entity_id, state)
            if card is not None and job_board.shown(card):
                self.view.upsert_card(card)
            else:
                self.view.remove_card(entity_id)
        elif kind == topics.TECHNICIANS:
            row = self.page.rows.card(entity_id, state)
            if row is not None:
                self.names[entity_id] = str(row["name"])
                self.view.upsert_row(row)
            else:
                self.view.remove_row(entity_id)

    # -- dispatch -----------------------------------------------------------------------------------------------
    async def on_assign(self, e: GenericEventArguments) -> None:
        number, technician = str(e.args.get("number") or ""), str(e.args.get("technician") or "")
        if number and technician.isdigit():
            await self.dispatch(number, int(technician))

    async def dispatch(self, number: str, technician: int, override: str | None = None) -> None:
        t = self.t
        try:
            await io(self.page.workshop.dispatch.dispatch, number, technician, actor=self.user.name,
                     override=override)
        except DispatchRefused as refused:
            reason = await self.refusal(number, technician, [t(b.key, **b.params) for b in refused.violations])
            if reason is not None:
                await self.dispatch(number, technician, reason)
            return
        except DomainError as exc:
            ui.notify(exc.message(t.lang), type="negative")
            return
        ui.notify(t("dispatch.done", number=number, technician=self.names.get(str(technician), str(technician))),
                  type="positive")

    async def refusal(self, number: str, technician: int, reasons: list[str]) -> str | None:
        """Why the dispatch breaks the rules; the reason to dispatch anyway, or None."""
        t = self.t
        card = self.view.cards.get(number) or {}
        with ui.dialog().props("persistent") as dialog, \
                ui.card().classes("w-[36rem] max-w-full gap-3").props("data-testid=dispatch-refused"):
            with ui.row().classes("items-center gap-2 no-wrap"):
                ui.icon("block", size="md").classes("text-negative")
                ui.label(t("dispatch.refused_title")).classes("text-xl font-bold")
            ui.label(t("dispatch.refused_what", number=number, plate=str(card.get("plate", "")),
                       technician=self.names.get(str(technician), str(technician))))
            for reason in reasons:
                with ui.row().classes("items-start gap-2 no-wrap w-full"):
                    ui.icon("error_outline").classes("text-negative mt-1")
                    ui.label(reason).classes("text-base text-negative").props("data-testid=refusal-reason") \
                        .mark("refusal-reason")
            text = ui.textarea(label=t("dispatch.override_reason"), placeholder=t("dispatch.override_hint")) \
                .props(f"outlined autogrow maxlength={MAX_REASON} data-testid=override-reason").classes("w-full") \
                .mark("override-reason")

            def anyway() -> None:
                value = (text.value or "").strip()
                if not value:
                    set_attrs(text, error=True, error_message=t("dispatch.override_needed"))
                    return
                dialog.submit(value)

            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(t("dispatch.leave_it"), on_click=lambda: dialog.submit(None)) \
                    .props("flat data-testid=leave-it").mark("leave-it")
                ui.button(t("dispatch.override"), icon="warning", on_click=anyway) \
                    .props("unelevated color=negative data-testid=dispatch-anyway").mark("dispatch-anyway")
        result = await dialog
        if not dialog.is_deleted:
            dialog.delete()
        return result if isinstance(result, str) else None

    # -- proposals ----------------------------------------------------------------------------------------------
    async def on_propose(self, e: GenericEventArguments) -> None:
        t = self.t
        number = str(e.args.get("number") or "")
        try:
            proposals = await io(self.page.workshop.dispatch.proposals, number)
        except DomainError as exc:
            ui.notify(exc.message(t.lang), type="negative")
            return
        with ui.dialog() as dialog, ui.card().classes("w-[40rem] max-w-full gap-2").props("data-testid=proposals"):
            ui.label(t("dispatch.proposals_title", number=number)).classes("text-xl font-bold")
            if not proposals:
                ui.label(t("dispatch.proposals_none"))
            for p in proposals:
                with ui.row().classes("w-full items-center gap-3 no-wrap").props("data-testid=proposal") \
                        .mark("proposal"):
                    with ui.column().classes("gap-0 grow min-w-0"):
                        with ui.row().classes("items-center gap-2"):
                            ui.label(p.name).classes("text-lg font-bold")
                            ui.badge(t(f"skill.{p.skill}")).props("outline")
                        ui.label(self.why(p)).classes("text-sm" + (" text-negative" if p.broken else " text-grey-8"))

                    async def give(tech: int = p.technician_id) -> None:
                        dialog.close()
                        await self.dispatch(number, tech)

                    ui.button(t("dispatch.give"), on_click=give).props("unelevated dense no-caps") \
                        .classes("px-3")
        dialog.open()

    def why(self, p: Proposal) -> str:
        t = self.t
        parts = []
        if DispatchRule.SKILL in p.broken:
            parts.append(t("dispatch.why_skill"))
        if DispatchRule.ABSENT in p.broken:
            parts.append(t("dispatch.why_absent"))
        if p.finishes_at is not None:
            when = self.moment(p.finishes_at)
            parts.append(t("dispatch.why_finishes" if p.before_promise else "dispatch.why_after", time=when))
        hours = f"{abs(p.free_hours_today):g}"
        parts.append(t("dispatch.why_free" if p.free_hours_today >= 0 else "dispatch.why_over", hours=hours))
        if p.own_class and not p.broken:
            parts.append(t("dispatch.why_own", skill=t(f"skill.{p.skill}")))
        return "；".join(parts) if self.t.lang == "zh-CN" else "; ".join(parts)

    def moment(self, at: datetime) -> str:
        local = at.astimezone(self.page.clock.tz)
        return f"{local:%H:%M}" if local.date() == self.page.clock.today() else f"{local:%m-%d %H:%M}"

    # -- assumed clockings --------------------------------------------------------------------------------------
    async def count_assumed(self) -> None:
        found = await io(self.page.assumed.unconfirmed)
        self.assumed_button.text = self.t("dispatch.assumed_button", count=len(found))

    async def show_assumed(self) -> None:
        t = self.t
        found = await io(self.page.assumed.unconfirmed)
        with ui.dialog() as dialog, ui.card().classes("w-[36rem] max-w-full gap-2").props("data-testid=assumed"):
            ui.label(t("dispatch.assumed_title")).classes("text-xl font-bold")
            if not found:
                ui.label(t("dispatch.assumed_none"))
            for c in found:
                with ui.row().classes("w-full items-center gap-3 no-wrap"):
                    ui.label(t("dispatch.assumed_row", technician=c.technician, number=c.repair_order,
                               start=self.moment(c.started_at),
                               end=self.moment(c.ended_at) if c.ended_at else "")).classes("grow")

                    async def confirm(clocking: int = c.id) -> None:
                        dialog.close()
                        await self.confirm(clocking)

                    ui.button(t("dispatch.confirm"), on_click=confirm).props("unelevated dense no-caps") \
                        .props("data-testid=confirm-clocking").mark("confirm-clocking")
        dialog.open()

    async def on_confirm(self, e: GenericEventArguments) -> None:
        clocking = e.args.get("clocking")
        if isinstance(clocking, int):
            await self.confirm(clocking)

    async def confirm(self, clocking: int) -> None:
        try:
            done = await io(self.page.workshop.clocking.confirm, clocking, actor=self.user.name)
        except DomainError as exc:
            ui.notify(exc.message(self.t.lang), type="negative")
            return
        ui.notify(self.t("dispatch.confirmed", technician=done.technician), type="positive")
        await self.count_assumed()
