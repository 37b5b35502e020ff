"""The job progress board's card says the order's parts as the parts counter left them: on back-order with the
latest ETA before still to pick; nothing once every part is issued, and nothing from a cancelled line."""

from zoneinfo import ZoneInfo

from shopfloor.board.job_board import order_card

TZ = ZoneInfo("Asia/Shanghai")


def card(*lines: dict) -> dict:
    return order_card("RO1", {"number": "RO1", "job_lines": list(lines)}, TZ)


def test_the_card_shows_back_order_with_its_latest_eta_then_to_pick() -> None:
    back = {"status": "paused", "parts_status": "back_order", "parts_eta": "2026-11-25"}
    later = {"status": "waiting", "parts_status": "back_order", "parts_eta": "2026-11-27"}
    pick = {"status": "dispatched", "parts_status": "to_pick"}
    issued = {"status": "in_progress", "parts_status": "issued"}
    assert {k: card(back, later, pick)[k] for k in ("parts", "parts_eta")} == {"parts": "back_order",
                                                                                "parts_eta": "11-27"}
    assert (card(pick, issued)["parts"], card(pick, issued)["parts_eta"]) == ("to_pick", "")
    assert card(issued, {"status": "waiting"})["parts"] == ""
    assert card({**back, "status": "cancelled"}, issued)["parts"] == ""
