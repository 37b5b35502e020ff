"""How the KPI tiles and charts on /manager/figures write their values and periods (shopfloor.kiosk.manager
.kpi_section): a mean score with one decimal, weeks as people read them in both languages."""

from __future__ import annotations

from shopfloor.i18n import Translator
from shopfloor.kiosk.manager.kpi_section import period_label, shown
from shopfloor.services.kpis import Figure


def test_a_mean_score_keeps_one_decimal_and_counts_stay_whole() -> None:
    csi = Figure("csi", "score", 9.0, 1169, 130, {"en": ""})
    assert shown(csi, csi.value) == "9.0" and shown(csi, csi.numerator) == "1,169"
    odd = Figure("csi", "score", 8.6923, 113, 13, {"en": ""})
    assert shown(odd, odd.value) == "8.7"
    intake = Figure("intake", "count", 205, None, None, {"en": ""})
    assert shown(intake, intake.value) == "205"


def test_weeks_read_as_their_number_and_days() -> None:
    zh, en = Translator("zh-CN"), Translator("en")
    assert period_label(zh, "2026-W47") == "第47周 (11/16–11/22)"
    assert period_label(en, "2026-W47") == "W47 (16–22 Nov)"
    assert period_label(en, "2026-W49") == "W49 (30 Nov–6 Dec)"  # a week across two months
    assert period_label(zh, "2026-W49") == "第49周 (11/30–12/6)"
    assert period_label(zh, "2026-11-20") == "2026-11-20" and period_label(en, "2026-11") == "2026-11"
