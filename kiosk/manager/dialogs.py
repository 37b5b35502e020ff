"""The plan board's dialogs: why a move was refused (with "move anyway" and its required reason), and one
appointment's details with its history (every recorded change: when, who, what, from → to, why)."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from shopfloor.i18n import Translator
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.manager.card_history import HistoryLine, history_section

OVERRIDE_REASON_MAX = 300  # BookingOverride.reason


async def refusal_dialog(t: Translator, card: dict[str, Any], target_time: str, target_advisor: str,
                         reasons: list[str]) -> str | None:
    """The rules the move breaks; the reason to move anyway, or None when the manager leaves the card."""
    with ui.dialog().props("persistent") as dialog, \
            ui.card().classes("w-[40rem] max-w-full gap-3").props("data-testid=move-refused"):
        with ui.row().classes("items-center gap-2 no-wrap"):
            ui.icon("block", size="md").classes("text-negative")
            ui.label(t("manager.board.refused_title")).classes("text-xl font-bold")
        ui.label(t("manager.board.refused_what", plate=card["plate_display"], customer=card["customer"],
                   time=card["time"], advisor=card["advisor_name"], target_time=target_time,
                   target_advisor=target_advisor)).classes("text-base")
        with ui.column().classes("gap-1 w-full"):
            for reason in reasons:
                with ui.row().classes("items-start gap-2 no-wrap w-full"):
                    ui.icon("error_outline").classes("text-negative mt-1")
                    ui.label(reason).classes("text-base text-negative").props("data-testid=refusal-reason")
        ui.label(t("manager.board.snapped_back")).classes("text-sm text-grey-7")
        ui.separator()
        text = ui.textarea(label=t("manager.board.override_reason"),
                           placeholder=t("manager.board.override_hint")) \
            .props(f"outlined autogrow maxlength={OVERRIDE_REASON_MAX} data-testid=override-reason") \
            .classes("w-full")

        def anyway() -> None:
            value = (text.value or "").strip()
            if not value:
                set_attrs(text, error=True, error_message=t("manager.board.override_needed"))
                return
            dialog.submit(value)

        with ui.row().classes("w-full justify-end gap-2"):
            ui.button(t("manager.board.leave_it"), on_click=lambda: dialog.submit(None)) \
                .props("flat data-testid=leave-it")
            ui.button(t("manager.board.move_anyway"), icon="warning", on_click=anyway) \
                .props("unelevated color=negative data-testid=move-anyway")
    result = await dialog
    # A page that went away with the dialog open (a closed tab, a lost connection) has deleted it already and
    # answered None, like "leave it": deleting it again raised ValueError (list.remove) in the log.
    if not dialog.is_deleted:
        dialog.delete()
    return result if isinstance(result, str) else None


def details_dialog(t: Translator, state: dict[str, Any], history: list[HistoryLine]) -> None:
    """Everything the card is too small for: work lines, parts, flags, calls, overrides, and its history."""
    start, end = state["start"][11:16], (state.get("end") or "")[11:16]
    with ui.dialog() as dialog, ui.card().classes("w-[48rem] max-w-full gap-2").props("data-testid=card-details"):
        with ui.row().classes("w-full items-center gap-3 no-wrap"):
            ui.label(state.get("plate_display") or state["plate"]).classes("text-2xl font-bold")
            ui.badge(t(f"appointment.{state['status']}"))
            ui.space()
            ui.button(icon="close", on_click=dialog.close).props("flat round dense")
        rows: list[tuple[str, str]] = [
            (t("manager.details.customer"), state.get("customer") or ""),
            (t("manager.details.vehicle"), state.get("vehicle_model") or ""),
            (t("manager.details.time"), f"{state['start'][:10]} {start}–{end}"),
            (t("manager.details.advisor"), (state.get("advisor") or {}).get("name", "")),
            (t("manager.details.hours"), t("manager.details.hours_value", hours=f"{float(state['hours']):.1f}")),
            (t("manager.details.bay"), state.get("bay") or "—"),
            (t("manager.details.work"), state.get("work") or ""),
        ]
        parts = state.get("parts") or {}
        if parts.get("status") and parts["status"] != "none":
            parts_text = t(f"manager.details.parts_status.{parts['status']}")
            if parts.get("eta"):
                parts_text += " · " + t("manager.details.eta", day=parts["eta"])
            if parts.get("numbers"):
                parts_text += " · " + parts["numbers"]
            rows.append((t("manager.details.parts"), parts_text))
        flags = [t(f"manager.board.flag.{k}") for k, v in (state.get("flags") or {}).items() if v]
        if flags:
            rows.append((t("manager.details.flags"), "、".join(flags) if t.lang == "zh-CN" else ", ".join(flags)))
        if state.get("call_outcome"):
            rows.append((t("manager.details.call"), t(f"manager.details.call_outcome.{state['call_outcome']}")))
        if state.get("ro_number"):
            rows.append((t("manager.details.repair_order"), state["ro_number"]))
        if state.get("cancel_reason"):
            rows.append((t("manager.details.cancel_reason"), state["cancel_reason"]))
        with ui.grid(columns="auto 1fr").classes("w-full gap-x-4 gap-y-1"):
            for name, value in rows:
                ui.label(name).classes("text-grey-7")
                ui.label(value)
        lines = state.get("job_lines") or []
        if lines:
            ui.label(t("manager.details.job_lines")).classes("text-grey-7 pt-1")
            for line in lines:
                skill = t(f"skill.{line.get('skill') or 'maintenance'}")
                ui.label(f"· {line.get('description', '')} — {float(line.get('hours') or 0):.1f} "
                         f"{t('manager.capacity.h')} ({skill})").classes("text-sm")
        overrides = state.get("overrides") or []
        if overrides:
            ui.label(t("manager.details.overrides")).classes("text-grey-7 pt-1")
            for o in overrides:
                ui.label(t("manager.details.override_line", at=(o.get("at") or "")[:16].replace("T", " "),
                           actor=o.get("actor", ""), rule=t(f"manager.details.rule.{o.get('rule')}"),
                           reason=o.get("reason", ""))).classes("text-sm text-orange-10")
        history_section(t, history)
    dialog.on("hide", dialog.delete)
    dialog.open()
