"""What one wall screen costs the server: build time and memory of the appointment board for the synthetic
200-card day (bench/board_preview.py), measured in-process with NiceGUI's simulated browser (real page
request + websocket handshake, no real browser).

    python bench/board_render.py [--pages 50] [--builds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path
from types import ModuleType

from shopfloor.board.appointment_board import AppointmentBoardPage
from shopfloor.board.components import BoardView
from shopfloor.board.lounge import LoungePage
from shopfloor.board.progress_board import ProgressBoardPage
from shopfloor.clock import FixedClock
from shopfloor.i18n import Translator


def _preview() -> ModuleType:
    spec = importlib.util.spec_from_file_location("board_preview", Path(__file__).with_name("board_preview.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Timed:
    """Wraps a page class's build() to time the builder alone (no HTTP, no HTML rendering)."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def wrap(self, board: AppointmentBoardPage) -> None:
        original = board.build

        def build(t: Translator) -> None:
            start = time.perf_counter()
            original(t)
            self.seconds.append(time.perf_counter() - start)

        board.build = build  # type: ignore[method-assign]


def ms(values: list[float]) -> str:
    p90 = sorted(values)[int(len(values) * 0.9)]
    return f"median {statistics.median(values) * 1000:.1f} ms, p90 {p90 * 1000:.1f} ms"


async def measure(pages: int, builds: int) -> None:
    from nicegui import Client
    from nicegui.storage import Storage
    from nicegui.testing.user_simulation import user_simulation

    preview = _preview()
    now = preview.fixed_clock("14:30")
    board, lounge = preview.synthetic_day(now)
    settings = preview.demo_settings()
    Storage.path = Path(tempfile.mkdtemp(prefix="board-bench-storage-"))

    async with user_simulation() as user:
        appointments = AppointmentBoardPage(board, settings, preview.TOKEN, clock=FixedClock(now))
        timed = Timed()
        timed.wrap(appointments)
        appointments.register("/board/appointments")
        ProgressBoardPage(board, settings, preview.TOKEN, clock=FixedClock(now)).register("/board/progress")
        LoungePage(lounge, settings, clock=FixedClock(now)).register("/lounge")

        client = await user.open(f"/board/appointments?token={preview.TOKEN}")  # pair this "screen"
        view = next(e for e in client.elements.values() if isinstance(e, BoardView))
        print(f"appointment board: {len(view.cards)} cards, {len(client.elements)} NiceGUI elements on the page")

        request_seconds = []
        for _ in range(builds):
            start = time.perf_counter()
            await user.open("/board/appointments")
            request_seconds.append(time.perf_counter() - start)
        print(f"build() alone:                         {ms(timed.seconds[1:])}")
        print(f"page request + handshake (in-process): {ms(request_seconds)}")
        response = await user.http_client.get("/board/appointments")
        print(f"page HTML: {len(response.content) / 1024:.0f} kB")

        for path in ("/board/progress", "/lounge"):
            seconds = []
            for _ in range(10):
                start = time.perf_counter()
                await user.open(path)
                seconds.append(time.perf_counter() - start)
            print(f"{path:<20} request + handshake: {ms(seconds)}")

        # memory: N more connected screens, measured after the first ones warmed every cache
        gc.collect()
        alive_before = len(Client.instances)
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        for _ in range(pages):
            await user.open("/board/appointments")
        await asyncio.sleep(0.2)  # let the outboxes flush
        gc.collect()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
        print(f"{len(Client.instances) - alive_before} more connected pages: "
              f"{grown / 1024:.0f} kB in all, {grown / pages / 1024:.1f} kB per page "
              f"(store listeners: {board.listener_count})")

        # and one update pushed to every screen
        start = time.perf_counter()
        topic, state = next(iter(board.states("appointments").items()))
        preview_payloads = preview.payloads
        board.apply(preview.topics.state(preview.SITE, "appointments", topic),
                    preview_payloads.encode(dict(state, status="arrived", version=state["version"] + 10**9)))
        print(f"one store update fanned out to {board.listener_count} screens: "
              f"{(time.perf_counter() - start) * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=50, help="connected pages for the memory figure")
    parser.add_argument("--builds", type=int, default=30, help="page builds for the time figure")
    args = parser.parse_args()
    asyncio.run(measure(args.pages, args.builds))


if __name__ == "__main__":
    main()
