"""What the walkaround page holds between saves (kiosk/reception/walkaround_page.py): the readings, the items'
traffic lights, the damage marks with a key of their own, and how they become WalkaroundService.record's input.

A mark gets its key on the tablet, not from the database: record() replaces the order's marks on every save, so a
row's id changes, while a photo still on its way must find the mark it was taken for. Where on the diagram each
position looks (the design's shared geometry: a 400×600 portrait box, front at the top, driver's side left) is here
too, for the page's highlight and for the position of a tap."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from shopfloor.domain.walkaround import ITEMS, MEASUREMENTS, ItemStatus, MarkKind, Position
from shopfloor.settings import ReceptionSettings

STEPS: tuple[Position, ...] = tuple(Position)  # the seeds' order; the explanation to the customer comes after
EXPLAIN = "explain"
# (x0, y0, x1, y1) as fractions of the diagram: interior the cabin, front and rear the top and bottom bands, the
# sides their halves. They overlap at the corners: a tap there belongs to the step the advisor is on.
ZONES: dict[Position, tuple[float, float, float, float]] = {
    Position.INTERIOR: (0.30, 0.33, 0.70, 0.76),
    Position.LEFT_FRONT: (0.10, 0.12, 0.34, 0.56),
    Position.FRONT: (0.12, 0.0, 0.88, 0.36),
    Position.RIGHT_SIDE: (0.66, 0.12, 0.90, 0.88),
    Position.REAR: (0.12, 0.76, 0.88, 1.0),
    Position.LEFT_REAR: (0.10, 0.50, 0.34, 0.88),
}
NOTE_MAX = 200
FUEL_EIGHTHS = 8


def _inside(zone: tuple[float, float, float, float], x: float, y: float) -> bool:
    return zone[0] <= x <= zone[2] and zone[1] <= y <= zone[3]


def position_at(x: float, y: float, current: Position | None = None) -> Position:
    """The position a tap at (x, y) belongs to: the current step's when its zone holds the point, else the zone
    whose centre is nearest among those holding it (or among all, beside the car)."""
    if current is not None and _inside(ZONES[current], x, y):
        return current
    holding = [p for p, z in ZONES.items() if _inside(z, x, y)] or list(ZONES)

    def distance(p: Position) -> float:
        x0, y0, x1, y1 = ZONES[p]
        return ((x0 + x1) / 2 - x) ** 2 + ((y0 + y1) / 2 - y) ** 2
    return min(holding, key=distance)


# the step each measured item (services/reception/walkaround.py MEASURED_ITEMS) is read at: a tyre at its wheel,
# the front pads at the left front (the first wheel the walk reaches), the rear pads at the left rear
MEASURED_AT: dict[str, Position] = {
    "tyre_tread_lf": Position.LEFT_FRONT, "brake_pad_front": Position.LEFT_FRONT,
    "tyre_tread_rf": Position.RIGHT_SIDE, "tyre_tread_rr": Position.RIGHT_SIDE,
    "tyre_tread_lr": Position.LEFT_REAR, "brake_pad_rear": Position.LEFT_REAR,
}


def measurement_of(item: str) -> str | None:
    """Which measurement a measured item is (tyre_tread, brake_pad), by its key's start."""
    return next((m for m in MEASUREMENTS if item.startswith(m)), None)


def measured_at(item: str) -> Position:
    return MEASURED_AT.get(item, Position.LEFT_FRONT)


def light_for(item: str, value: float, settings: ReceptionSettings) -> ItemStatus:
    """The traffic light of a measurement in millimetres, by [reception]'s thresholds."""
    kind = measurement_of(item)
    red, yellow = (settings.brake_pad_red_below, settings.brake_pad_yellow_below) if kind == "brake_pad" else \
        (settings.tyre_tread_red_below, settings.tyre_tread_yellow_below)
    if value < red:
        return ItemStatus.RED
    return ItemStatus.YELLOW if value < yellow else ItemStatus.GREEN


@dataclass
class Mark:
    key: str
    position: str
    kind: str
    x: float
    y: float
    note: str = ""
    photo: int | None = None
    photo_url: str | None = None
    photo_state: str = ""  # "" | sending | retrying | refused: the photo's way to the server
    photo_detail: str = ""  # the server's words when it refused the photo


@dataclass
class Item:
    status: str | None = None
    value: float | None = None
    note: str = ""
    job_line: int | None = None  # the job line proposed from it
    proposed: str = ""  # what that line says (hours, and the price when proposed on this page)


_keys = itertools.count(1)


def new_key() -> str:
    return f"n{next(_keys)}"


@dataclass
class Draft:
    """The walkaround as the page holds it; `to_input` is what a save sends."""

    mileage_km: int | None = None
    fuel_eighths: int | None = None
    protection_kit: bool = False
    valuables_taken: bool = False
    explained: bool = False
    items: dict[str, Item] = field(default_factory=dict)
    marks: list[Mark] = field(default_factory=list)
    measured: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, view: Any | None, ro: dict[str, Any], measured: list[str]) -> Draft:
        """From the stored walkaround (WalkaroundView) when there is one, else from what check-in recorded."""
        draft = cls(measured=list(measured))
        for key in (*itertools.chain.from_iterable(ITEMS.values()), *measured):
            draft.items[key] = Item()
        if view is None:
            draft.mileage_km, draft.fuel_eighths = ro.get("mileage_km"), ro.get("fuel_eighths")
            return draft
        draft.mileage_km, draft.fuel_eighths = view.mileage_km, view.fuel_eighths
        draft.protection_kit, draft.valuables_taken = bool(view.protection_kit), bool(view.valuables_taken)
        draft.explained = bool(view.explained)
        for key, stored in (view.items or {}).items():
            value = stored.get("value")
            draft.items[key] = Item(stored.get("status"), float(value) if value is not None else None,
                                    str(stored.get("note") or ""), stored.get("job_line"))
        draft.marks = [Mark(f"m{m.id}", m.position, m.kind, float(m.x), float(m.y), m.note or "", m.photo_id,
                            m.photo_url) for m in view.marks]
        return draft

    def items_at(self, position: Position) -> list[str]:
        return [*ITEMS[position], *(k for k in self.measured if measured_at(k) == position)]

    def marks_at(self, position: Position) -> list[Mark]:
        return [m for m in self.marks if m.position == position]

    def number_of(self, mark: Mark) -> int:
        """A mark's number on the diagram and in the lists: its place among all the order's marks, from 1."""
        return self.marks.index(mark) + 1

    def mark(self, key: str) -> Mark | None:
        return next((m for m in self.marks if m.key == key), None)

    def flagged(self) -> list[str]:
        """The red and yellow items, red first, in the walk's order."""
        order = [k for p in STEPS for k in self.items_at(p)]
        return sorted((k for k in order if self.items[k].status in (ItemStatus.RED, ItemStatus.YELLOW)),
                      key=lambda k: (self.items[k].status != ItemStatus.RED, order.index(k)))

    def unchecked(self, position: Position) -> list[str]:
        return [k for k in self.items_at(position) if self.items[k].status is None]

    def to_input(self, *, mileage_confirmed: bool = False) -> Any:
        from shopfloor.services.reception.walkaround import ItemInput, MarkInput, WalkaroundInput

        items = {k: ItemInput(status=i.status, value=i.value, note=i.note.strip()[:NOTE_MAX])
                 for k, i in self.items.items() if i.status is not None or i.value is not None or i.note.strip()}
        marks = [MarkInput(position=m.position, kind=m.kind, x=m.x, y=m.y, note=m.note.strip()[:NOTE_MAX],
                           photo=m.photo) for m in self.marks]
        return WalkaroundInput(mileage_km=self.mileage_km, fuel_eighths=self.fuel_eighths,
                               protection_kit=self.protection_kit, valuables_taken=self.valuables_taken, items=items,
                               marks=marks, explained=self.explained, mileage_confirmed=mileage_confirmed)


def diagram_marks(draft: Draft) -> list[dict[str, Any]]:
    """The marks as car_diagram.js draws them (JSON props: drawn as text, never markup)."""
    return [{"key": m.key, "n": i, "kind": m.kind, "x": m.x, "y": m.y, "photo": m.photo is not None}
            for i, m in enumerate(draft.marks, 1)]


KINDS: tuple[str, ...] = tuple(MarkKind)
