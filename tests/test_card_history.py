"""The manager's card history names every audited action in both languages and shows stored values in words:
payers, channels, yes/no, statuses, printers, and what a walkaround save changed."""

from __future__ import annotations

import ast
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shopfloor.domain.walkaround import DocumentKind
from shopfloor.i18n import LANGUAGES, Translator, catalogue
from shopfloor.kiosk.manager.card_history import history_lines
from shopfloor.services.audit import AuditRow

SERVICES = Path(__file__).resolve().parents[1] / "shopfloor" / "services"
TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 12, 5)
# the action names some call sites compute, by the expression they pass: every such site must be listed here
COMPUTED: dict[str, tuple[str, ...]] = {
    "appt.status": ("late", "no_show"),
    "kind": ("transition", "rework"),
    "attr": ("keep_replaced_parts", "followup_channel", "customer_leaves_car"),
    "f'{kind}_version'": tuple(f"{k.value}_version" for k in DocumentKind),
    "f'{kind}_signed'": tuple(f"{k.value}_signed" for k in DocumentKind),
    "printed": tuple(f"{kind}_{done}" for kind in ("settlement_list", "delivery_sheet")
                     for done in ("printed", "reprinted")),
    "action": (),  # PrintService._record_decision and audit.record's own signature: their callers are walked
}


def _names(node: ast.expr) -> tuple[str, ...] | None:
    """The action names an argument can be; None when it is computed."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.value,)
    if isinstance(node, ast.IfExp):
        body, other = _names(node.body), _names(node.orelse)
        return body + other if body is not None and other is not None else None
    return None


def _audited_actions() -> set[str]:
    found: set[str] = set()
    for path in SERVICES.rglob("*.py"):
        for call in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(call, ast.Call):
                continue
            name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
            place = {"record": 5, "_record_decision": 4}.get(name)
            if place is None or len(call.args) <= place:
                continue
            arg = call.args[place]
            names = _names(arg)
            if names is None:
                text = ast.unparse(arg)
                assert text in COMPUTED, f"{path.name}:{call.lineno}: record() with a computed action {text!r}"
                names = COMPUTED[text]
            found.update(names)
    return found


def test_every_audited_action_has_a_label_in_both_languages() -> None:
    actions = _audited_actions()
    assert {"additional_work", "additional_work_decision", "walkaround_recorded", "print_redirected"} <= actions
    for lang in LANGUAGES:
        missing = sorted(a for a in actions if f"audit.action.{a}" not in catalogue(lang))
        assert not missing, (lang, missing)


def _row(action: str, before: str | None, after: str | None, detail: dict[str, Any] | None = None,
         reason: str | None = None) -> AuditRow:
    return AuditRow(1, datetime(2026, 12, 5, 10, 30, tzinfo=TZ), "张伟", "staff", None, "repair_order", "R1", action,
                    before, after, reason, detail)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_stored_values_read_as_words(lang: str) -> None:
    t = Translator(lang)
    rows = [_row("job_line_payer", "customer", "insurance"), _row("keep_replaced_parts", None, "True"),
            _row("followup_channel", None, "wechat"), _row("ticket_printed", None, "reception"),
            _row("additional_work_decision", "pending", "approved", {"method": "customer_page"}),
            _row("additional_work", None, "右前刹车片磨损"), _row("estimate_discount", "0.00", "50.00"),
            _row("estimate_signed", None, "3"), _row("photo_added", None, "17"),
            _row("promise", "2026-12-05T14:15:00+08:00", "2026-12-05T15:15:00+08:00")]
    lines = history_lines(t, rows, TZ, TODAY, {"reception": "接待台打印机"})
    changes = [x.change for x in lines]
    assert all(not x.what.startswith("audit.") for x in lines)
    if lang == "zh-CN":
        assert changes == ["客户 → 保险", "→ 是", "→ 微信", "→ 接待台打印机", "待确认 → 已同意", "→ 右前刹车片磨损",
                           "¥0.00 → ¥50.00", "→ 第 3 版", "", "12-05 14:15 → 12-05 15:15"]
        assert (lines[4].what, lines[4].why) == ("客户确认增项", "客户页面")
    else:
        assert changes == ["Customer → Insurance", "→ Yes", "→ WeChat", "→ 接待台打印机", "Waiting → Approved",
                           "→ 右前刹车片磨损", "¥0.00 → ¥50.00", "→ version 3", "", "12-05 14:15 → 12-05 15:15"]
        assert lines[0].what == "Payer of a line" and lines[5].what == "Additional work found"


def test_a_walkaround_save_names_what_changed() -> None:
    t = Translator("zh-CN")
    first = _row("walkaround_recorded", None, None, {"first": True, "changed": ["mileage_km"], "marks": 2,
                                                    "red": ["brake_pad_front"], "yellow": [], "items_changed": {}})
    later = _row("walkaround_recorded", None, None, {
        "first": False, "changed": ["fuel_eighths"], "fuel_eighths": 5, "marks_added": 1, "marks_removed": 0,
        "items_changed": {"brake_pad_front": ["green", "red"]}})
    odometer = _row("walkaround_recorded", "15230", "15300", {"first": False, "changed": ["mileage_km"],
                                                              "items_changed": {}})
    old = _row("walkaround_recorded", "15230", "15230", {"marks": 0})  # written before saves named changes
    lines = history_lines(t, [first, later, odometer, old], TZ, TODAY)
    assert lines[0].change == "首次记录：2 处标记，红 1 项，黄 0 项"
    assert lines[1].change.startswith("油量 5/8 · ") and "→ 需维修" in lines[1].change
    assert lines[1].change.endswith("新增 1 处标记")
    assert lines[2].change == "里程 15230 → 15300 公里"
    assert lines[3].change == "15230 → 15230"
    en = history_lines(Translator("en"), [later], TZ, TODAY)[0].change
    assert en.startswith("fuel 5/8 · ") and en.endswith("1 mark added") and "OK → needs work" in en
