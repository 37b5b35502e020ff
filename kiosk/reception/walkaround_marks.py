"""Damage marks on the walkaround's diagram (kiosk/reception/walkaround_page.py): a tap places one (its kind, a note,
a photo), a tap on a mark changes or deletes it, and the photo's way to the server as car_diagram.js reports it.

A mark is saved as soon as it is placed, without waiting for its photo: the photo may take a while on the bay's
Wi-Fi, and the mark must not be lost meanwhile. A photo that arrives for a mark whose dialog is still open waits
here and is attached when the mark is placed."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from nicegui import ui

from shopfloor.domain.walkaround import Position
from shopfloor.kiosk.reception.walkaround_model import KINDS, NOTE_MAX, ZONES, Mark, diagram_marks, new_key, position_at
from shopfloor.kiosk.reception.walkaround_steps import TOGGLE

if TYPE_CHECKING:
    from shopfloor.kiosk.reception.walkaround_page import WalkaroundScreen

PHOTO_STATES = ("sending", "retrying", "refused")


def _fraction(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value) if 0 <= value <= 1 else None


class MarkDialogs:
    def __init__(self, screen: WalkaroundScreen) -> None:
        self.screen = screen
        self.t = screen.t
        self.draft = screen.draft
        self.arrived: dict[str, tuple[int, str]] = {}  # mark key -> (photo id, url) for a mark not placed yet
        self.open_key = ""
        self.dialog_state: ui.label | None = None

    # -- placing and changing -----------------------------------------------------------------------------------
    def place(self, e: Any) -> None:
        args = e.args if isinstance(e.args, dict) else {}
        x, y = _fraction(args.get("x")), _fraction(args.get("y"))
        if x is None or y is None:
            return
        step = self.screen.stepper.value
        current = Position(step) if step in ZONES else None
        mark = Mark(new_key(), position_at(x, y, current).value, "", round(x, 4), round(y, 4))
        self.dialog(mark, new=True)

    def edit(self, key: str) -> None:
        mark = self.draft.mark(key)
        if mark is not None:
            self.dialog(mark, new=False)

    def dialog(self, mark: Mark, *, new: bool) -> None:
        t, screen = self.t, self.screen
        n = len(self.draft.marks) + 1 if new else self.draft.number_of(mark)
        shown = diagram_marks(self.draft)
        if new:  # where the tap was, while the advisor says what it is
            shown.append({"key": mark.key, "n": n, "kind": "other", "x": mark.x, "y": mark.y, "photo": False})
        screen.diagram.show(marks=shown, selected=mark.key)
        self.open_key = mark.key
        with ui.dialog().props("persistent") as dialog, ui.card().classes("w-[44rem] gap-3").mark("mark-dialog"):
            ui.label(t("walkaround.mark.title", n=n, position=t(f"walkaround.position.{mark.position}"))) \
                .classes("text-xl font-bold")
            ui.label(t("walkaround.mark.kind")).classes("text-sm text-grey-7")
            kind = ui.toggle({k: t(f"walkaround.kind.{k}") for k in KINDS}, value=mark.kind or None) \
                .props(TOGGLE).props("spread toggle-color=primary padding='12px 8px'") \
                .classes("w-full text-lg") \
                .mark("mark-kind")
            note = ui.input(t("walkaround.mark.note"), value=mark.note) \
                .props(f"outlined maxlength={NOTE_MAX}").classes("w-full").mark("mark-note")
            with ui.row().classes("w-full items-center gap-3"):
                screen.panels.photo_button(mark.key, again=mark.photo is not None or mark.key in self.arrived) \
                    .mark("mark-photo")
                self.dialog_state = ui.label("").classes("text-sm").mark("mark-photo-state")
                self._say_state(mark)
            missing = ui.label("").classes("text-negative")
            with ui.row().classes("w-full justify-between items-center"):
                if new:
                    ui.element("span")
                else:
                    ui.button(t("walkaround.mark.delete"), icon="delete",
                              on_click=lambda: self._delete(mark, dialog)) \
                        .props("flat color=negative").mark("mark-delete")
                with ui.row().classes("gap-2"):
                    ui.button(t("walkaround.mark.cancel"), on_click=lambda: self._cancel(mark, dialog, new)) \
                        .props("flat").mark("mark-cancel")
                    ui.button(t("walkaround.mark.place"), icon="check",
                              on_click=lambda: self._save(mark, dialog, new, kind.value, note.value, missing)) \
                        .props("unelevated size=lg").mark("mark-save")
        dialog.open()

    async def _save(self, mark: Mark, dialog: ui.dialog, new: bool, kind: str | None, note: str | None,
                    missing: ui.label) -> None:
        if kind not in KINDS:
            missing.text = self.t("walkaround.mark.kind")
            return
        mark.kind, mark.note = kind, (note or "").strip()[:NOTE_MAX]
        if new:
            self.draft.marks.append(mark)
            if mark.key in self.arrived:
                mark.photo, mark.photo_url = self.arrived.pop(mark.key)
                mark.photo_state = ""
        self._close(dialog)
        self.screen.marks_changed()
        await self.screen.save()

    def _cancel(self, mark: Mark, dialog: ui.dialog, new: bool) -> None:
        if new:  # its photo, if one was taken, is not sent any more
            self.arrived.pop(mark.key, None)
            self.screen.diagram.forget(mark.key)
        self._close(dialog)
        self.screen.diagram.show(marks=diagram_marks(self.draft), selected="")

    async def _delete(self, mark: Mark, dialog: ui.dialog) -> None:
        if mark in self.draft.marks:
            self.draft.marks.remove(mark)
        self.screen.diagram.forget(mark.key)
        self._close(dialog)
        self.screen.marks_changed()
        await self.screen.save()

    def _close(self, dialog: ui.dialog) -> None:
        self.open_key = ""
        self.dialog_state = None
        dialog.close()
        dialog.delete()

    # -- photos -------------------------------------------------------------------------------------------------
    def photo_arrived(self, e: Any) -> None:
        args = e.args if isinstance(e.args, dict) else {}
        key, photo, url = str(args.get("key") or ""), args.get("id"), args.get("url")
        if not isinstance(photo, int) or isinstance(photo, bool) or not isinstance(url, str):
            return
        mark = self.draft.mark(key)
        if mark is None:
            if key == self.open_key:
                self.arrived[key] = (photo, url)
                self._say(self.t("walkaround.mark.has_photo"), "text-positive")
            return
        mark.photo, mark.photo_url, mark.photo_state, mark.photo_detail = photo, url, "", ""
        if key == self.open_key:
            self._say(self.t("walkaround.mark.has_photo"), "text-positive")
        self.screen.marks_changed()

    def photo_state(self, e: Any) -> None:
        args = e.args if isinstance(e.args, dict) else {}
        key, state = str(args.get("key") or ""), args.get("state")
        if state not in PHOTO_STATES:
            return
        detail = str(args.get("detail") or "")[:200]
        mark = self.draft.mark(key)
        if mark is not None:
            mark.photo_state, mark.photo_detail = str(state), detail
            self.screen.panels.redraw_marks()
        if key == self.open_key:
            words = self.t(f"walkaround.mark.{state}", detail=detail)
            self._say(words, "text-negative" if state == "refused" else "text-orange-9")

    def _say_state(self, mark: Mark) -> None:
        if mark.photo_state in PHOTO_STATES:
            self._say(self.t(f"walkaround.mark.{mark.photo_state}", detail=mark.photo_detail), "text-orange-9")
        elif mark.photo is not None or mark.key in self.arrived:
            self._say(self.t("walkaround.mark.has_photo"), "text-positive")

    def _say(self, text: str, colour: str) -> None:
        if self.dialog_state is not None and not self.dialog_state.is_deleted:
            self.dialog_state.text = text
            self.dialog_state.classes(replace=f"text-sm {colour}")

    def show_photo(self, mark: Mark) -> None:
        if not mark.photo_url:
            return
        with ui.dialog() as dialog, ui.card().classes("items-center"):
            ui.image(mark.photo_url).classes("w-[56rem] max-w-full").props("fit=contain").mark("mark-photo-image")
            ui.button(self.t("walkaround.mark.cancel"), on_click=dialog.close).props("flat")
        dialog.open()
