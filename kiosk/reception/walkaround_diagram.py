"""The top-view car of the walkaround (static/car_diagram.js over static/car_diagram.svg): the marks and last
visit's faded marks go to the browser as JSON props, drawn there as text; taps and photos come back as events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nicegui import ui

STATIC = Path(__file__).parent / "static"
STATIC_URL = "/walkaround-static"


class CarDiagram(ui.element, component="static/car_diagram.js"):
    def __init__(self, *, upload: str, labels: dict[str, str], max_px: int) -> None:
        super().__init__()
        self._props["max_px"] = max_px
        self._props["src"] = f"{STATIC_URL}/car_diagram.svg"
        self._props["upload"] = upload
        self._props["labels"] = labels
        self._props["marks"] = []
        self._props["earlier"] = []
        self._props["zone"] = None
        self._props["selected"] = ""

    def show(self, *, marks: list[dict[str, Any]] | None = None, earlier: list[dict[str, Any]] | None = None,
             zone: tuple[float, float, float, float] | bool | None = False, selected: str | None = None) -> None:
        """Redraw what changed (an argument left out keeps what is drawn; zone None: no zone)."""
        if marks is not None:
            self._props["marks"] = marks
        if earlier is not None:
            self._props["earlier"] = earlier
        if zone is not False:
            self._props["zone"] = list(zone) if isinstance(zone, tuple) else None
        if selected is not None:
            self._props["selected"] = selected
        self.update()

    def retry_now(self, key: str) -> None:
        self.run_method("retry_now", key)

    def forget(self, key: str) -> None:
        self.run_method("forget", key)
