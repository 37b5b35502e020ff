"""What a bay station shows of its technician: the job clocked on now with its running clock, "my next job" (the
order, its lines, the customer's words, the promise, the parts), and the queue. Big type: read from 2 m."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from nicegui import ui

from shopfloor.domain.identifiers import display_plate
from shopfloor.domain.workshop import QcStage
from shopfloor.i18n import Translator
from shopfloor.kiosk.common.attributes import set_attrs

if TYPE_CHECKING:
    from shopfloor.clock import SiteClock
    from shopfloor.services.repair_orders import RepairOrderService
    from shopfloor.services.workshop.clocking import ClockingInfo, ClockingService, NextJob, NextLine, QueuedJob
    from shopfloor.services.workshop.inspection import InspectionService, QueueItem

BADGES_PATH = "/workshop/badges"
STYLE = """<style>
.station .q-btn.station-big { min-height: 4.5rem; font-size: 1.5rem; padding: 0 2rem; }
.station .station-clock { font-variant-numeric: tabular-nums; letter-spacing: 0.02em; }
.station .station-now { border-left: 12px solid var(--q-primary); }
.station .station-next { border-left: 12px solid #90a4ae; }
/* a wall screen is read from 2 m: the same layout, larger */
@media (min-width: 1600px) { .station { zoom: 1.3; } }
</style>"""
LINE_COLOURS = {"waiting": "grey-6", "dispatched": "blue-grey-6", "in_progress": "primary", "paused": "orange-8",
                "done": "positive", "cancelled": "grey-5"}
PARTS_COLOURS = {"none": "text-grey-7", "in_stock": "text-positive", "to_order": "text-negative",
                 "arrived": "text-positive"}


@dataclass(frozen=True)
class StationData:
    technician_id: int
    next_job: NextJob
    queue: list[QueuedJob]
    clocking: ClockingInfo | None  # the clocking open now
    current: dict[str, Any] | None  # the state of the order clocked on (RepairOrderState as a dict)
    self_checks: list[QueueItem]  # orders with lines of theirs waiting for the self check


@dataclass(frozen=True)
class Actions:
    pause: Callable[[int, str], Awaitable[None]]  # (clocking id, order number)
    finish: Callable[[int, str], Awaitable[None]]
    additional: Callable[[str], Awaitable[None]]  # order number
    self_check: Callable[[str], Awaitable[None]]  # order number


def read(clocking: ClockingService, repair_orders: RepairOrderService, inspection: InspectionService | None,
         technician_id: int) -> StationData:
    """Everything the station draws, read in one go (in the thread pool)."""
    open_now = clocking.open_of(technician_id)
    current = repair_orders.get(open_now.repair_order) if open_now is not None else None
    self_checks = [item for item in inspection.waiting() if item.stage == QcStage.SELF and any(
        technician_id in line.technician_ids for line in item.lines)] if inspection is not None else []
    return StationData(technician_id, clocking.next_job(technician_id), clocking.queue(technician_id), open_now,
                       current, self_checks)


def at(moment: datetime | str | None, clock: SiteClock) -> str:
    """16:30 today, 11-24 09:00 another day."""
    if moment is None:
        return ""
    local = (datetime.fromisoformat(moment) if isinstance(moment, str) else moment).astimezone(clock.tz)
    return f"{local:%H:%M}" if local.date() == clock.today() else f"{local:%m-%d %H:%M}"


def elapsed(since: datetime, clock: SiteClock) -> tuple[int, str]:
    seconds = max(0, int((clock.now() - since).total_seconds()))
    return seconds, f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def scan_prompt(t: Translator) -> None:
    with ui.column().classes("w-full items-center pt-20 gap-6 text-center").mark("scan-badge") \
            .props("data-testid=scan-badge"):
        ui.icon("badge", size="10rem").classes("text-primary")
        ui.label(t("station.scan_badge")).classes("text-6xl font-bold")
        ui.label(t("station.scan_badge_hint")).classes("text-2xl text-grey-7")


def draw(t: Translator, clock: SiteClock, data: StationData, actions: Actions) -> set[str]:
    """The technician's screen; the order numbers it shows."""
    shown: set[str] = set()
    with ui.row().classes("w-full no-wrap gap-4 items-start"):
        with ui.column().classes("w-[62%] gap-4"):
            if data.self_checks:
                shown |= _self_checks(t, data.self_checks, actions)
            if data.clocking is not None and data.current is not None:
                _current(t, clock, data.clocking, data.current, data.technician_id, actions)
                shown.add(data.clocking.repair_order)
            _next(t, clock, data.next_job, actions, compact=data.clocking is not None)
            if data.next_job.repair_order:
                shown.add(data.next_job.repair_order)
        with ui.column().classes("w-[38%] gap-2"):
            shown |= _queue(t, clock, data)
    return shown


def _self_checks(t: Translator, items: list[QueueItem], actions: Actions) -> set[str]:
    """Work finished and not self-checked yet (the dialog was closed, or the last line was someone else's)."""
    with ui.card().classes("w-full gap-2 p-4 bg-green-1").props("flat bordered").mark("self-checks"):
        ui.label(t("station.self_checks")).classes("text-xl font-bold text-positive")
        for item in items:
            with ui.row().classes("w-full items-center no-wrap gap-4"):
                ui.label(item.number).classes("text-2xl font-bold")
                ui.label(f"{item.plate} · {item.work}").classes("text-xl grow")  # already as people read it
                ui.button(t("station.self_check"), icon="fact_check",
                          on_click=lambda n=item.number: actions.self_check(n)) \
                    .props("unelevated color=positive size=lg").mark(f"self-check-{item.number}")
    return {item.number for item in items}


def _big_button(label: str, icon: str, colour: str, marker: str, action: Callable[[], Awaitable[None]]) -> None:
    button = ui.button(label, icon=icon, on_click=action).props("unelevated").classes("station-big").mark(marker)
    set_attrs(button, color=colour)


def _current(t: Translator, clock: SiteClock, clocking: ClockingInfo, ro: dict[str, Any], technician_id: int,
             actions: Actions) -> None:
    seconds, text = elapsed(clocking.started_at, clock)
    with ui.card().classes("w-full gap-3 station-now bg-blue-1 p-5").props("flat bordered") \
            .mark("current-job").props("data-testid=current-job"):
        with ui.row().classes("w-full items-center justify-between no-wrap"):
            with ui.column().classes("gap-0"):
                ui.label(t("station.now_on")).classes("text-xl text-primary font-bold")
                ui.label(ro["number"]).classes("text-4xl font-bold").mark("current-ro").props("data-testid=current-ro")
                ui.label(f"{ro['plate_display']} · {ro['vehicle_model']}").classes("text-3xl")
            with ui.column().classes("gap-0 items-end"):
                clock_label = ui.label(text).classes("text-7xl font-bold station-clock text-primary") \
                    .mark("running-clock").props("data-testid=running-clock")
                set_attrs(clock_label, data_elapsed=seconds)  # station_clock.js counts on in the browser
                ui.label(t("station.since", time=at(clocking.started_at, clock))).classes("text-xl text-grey-8")
        mine = set(clocking.job_lines)
        _lines(t, [line for line in ro["job_lines"] if line.get("id") in mine or any(
            tech.get("id") == technician_id for tech in line.get("technicians", []))])
        _words(t, ro.get("complaint"))
        _promise(t, clock, ro.get("promised_at"), ro.get("projected_ready_at"))
        with ui.row().classes("w-full gap-4 pt-2"):
            _big_button(t("station.pause"), "pause_circle", "orange-8", "pause",
                        lambda: actions.pause(clocking.id, clocking.repair_order))
            _big_button(t("station.finish"), "task_alt", "positive", "finish",
                        lambda: actions.finish(clocking.id, clocking.repair_order))
            _big_button(t("station.additional"), "add_circle", "primary", "additional",
                        lambda: actions.additional(clocking.repair_order))


def _next(t: Translator, clock: SiteClock, job: NextJob, actions: Actions, *, compact: bool) -> None:
    with ui.card().classes("w-full gap-2 p-5" + ("" if compact else " station-next")).props("flat bordered") \
            .mark("next-job").props("data-testid=next-job"):
        ui.label(t("station.next_job")).classes("text-xl text-grey-8 font-bold")
        if job.repair_order is None:
            ui.label(t("station.no_next")).classes("text-2xl text-grey-7").mark("no-next")
            return
        with ui.row().classes("w-full items-baseline gap-4"):
            number = ui.label(job.repair_order).classes("text-4xl font-bold").mark("next-ro") \
                .props("data-testid=next-ro")
            set_attrs(number, data_ro=job.repair_order)
            ui.label(f"{display_plate(job.plate or '')} · {job.vehicle_model or ''}").classes("text-3xl")
        _lines(t, [_line_dict(line) for line in job.lines])
        if not compact:
            _words(t, job.complaint)
        _promise(t, clock, job.promised_at, job.projected_ready_at)
        if job.parts_status:
            with ui.row().classes("items-center gap-2"):
                ui.icon("inventory_2", size="md")
                parts = ui.label(t(f"station.parts.{job.parts_status}")
                                 + (f" · {t('station.parts_eta', eta=job.parts_eta)}" if job.parts_eta else "")) \
                    .classes("text-xl font-bold").mark("parts-status")
                parts.classes(PARTS_COLOURS.get(job.parts_status, "text-grey-8"))
        if not compact:
            with ui.row().classes("w-full items-center gap-4 pt-2"):
                ui.icon("qr_code_scanner", size="lg").classes("text-primary")
                ui.label(t("station.scan_ticket")).classes("text-2xl text-primary font-bold grow")
                _big_button(t("station.additional"), "add_circle", "primary", "additional",
                            lambda: actions.additional(job.repair_order or ""))


def _line_dict(line: NextLine) -> dict[str, Any]:
    return {"description": line.description, "hours": line.hours, "status": line.status,
            "pause_reason": line.pause_reason}


def _lines(t: Translator, lines: list[dict[str, Any]]) -> None:
    with ui.column().classes("w-full gap-1").mark("job-lines"):
        for line in lines:
            with ui.row().classes("w-full items-center no-wrap gap-3"):
                ui.badge(t(f"workshop.line_status.{line['status']}"),
                         color=LINE_COLOURS.get(line["status"], "grey")).classes("text-lg px-3 py-1")
                ui.label(line["description"]).classes("text-2xl grow")
                if line["status"] == "paused" and line.get("pause_reason"):
                    ui.label(t(f"workshop.pause.{line['pause_reason']}")).classes("text-xl text-orange-9")
                ui.label(t("station.hours", hours=f"{line['hours']:g}")).classes("text-xl text-grey-8")


def _words(t: Translator, complaint: str | None) -> None:
    if not complaint:
        return
    with ui.row().classes("w-full items-start no-wrap gap-2 bg-amber-1 rounded p-3"):
        ui.icon("format_quote", size="md").classes("text-amber-9")
        with ui.column().classes("gap-0"):
            ui.label(t("station.complaint")).classes("text-base text-grey-8")
            ui.label(complaint).classes("text-2xl").mark("complaint")


def _promise(t: Translator, clock: SiteClock, promised: datetime | str | None,
             projected: datetime | str | None) -> None:
    # projected past the promise: the advisor calls the customer; the technician sees it in red
    late = bool(promised and projected and _moment(projected) > _moment(promised))
    with ui.row().classes("items-center gap-4"):
        ui.icon("schedule", size="md").classes("text-negative" if late else "")
        ui.label(t("station.promised", time=at(promised, clock)) if promised else t("station.no_promise")) \
            .classes("text-2xl font-bold" + (" text-negative" if late else "")).mark("promise")
        if projected:
            ui.label(t("station.projected", time=at(projected, clock))) \
                .classes("text-xl " + ("text-negative font-bold" if late else "text-grey-8"))


def _moment(value: datetime | str) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _queue(t: Translator, clock: SiteClock, data: StationData) -> set[str]:
    ui.label(t("station.queue")).classes("text-2xl font-bold")
    rest = [job for job in data.queue if job.repair_order != data.next_job.repair_order]
    if not rest:
        ui.label(t("station.queue_empty")).classes("text-xl text-grey-7").mark("queue-empty")
        return set()
    with ui.column().classes("w-full gap-2").mark("queue"):
        for job in rest:
            card = ui.card().classes("w-full gap-1 p-3").props("flat bordered").mark(f"queue-{job.repair_order}")
            with set_attrs(card, data_ro=job.repair_order):
                with ui.row().classes("w-full items-baseline justify-between no-wrap"):
                    ui.label(display_plate(job.plate)).classes("text-2xl font-bold")
                    ui.label(t("station.hours", hours=f"{job.hours:g}")).classes("text-xl text-grey-8")
                ui.label(f"{job.repair_order} · {job.vehicle_model}").classes("text-lg text-grey-8")
                if job.hold is not None:
                    ui.badge(t("station.held", reason=t(f"hold.{job.hold}")), color="orange-8") \
                        .classes("text-base px-2")
                elif job.promised_at is not None:
                    ui.label(t("station.promised", time=at(job.promised_at, clock))).classes("text-lg")
    return {job.repair_order for job in rest}
