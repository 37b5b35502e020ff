"""The total in Chinese capital numerals (大写金额) printed beside it on the settlement list: the zeros said once
between figures and within and across the four-digit groups, 整 only after whole yuan, 零 before fen alone."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shopfloor.documents.settlement_data import capital_amount


@pytest.mark.parametrize(("amount", "words"), [
    ("1919.00", "壹仟玖佰壹拾玖元整"),
    ("208.50", "贰佰零捌元伍角"),
    ("100.05", "壹佰元零伍分"),
    ("228.00", "贰佰贰拾捌元整"),
    ("0", "零元整"),
    ("0.50", "伍角"),
    ("0.05", "伍分"),
    ("10", "壹拾元整"),
    ("101", "壹佰零壹元整"),
    ("1005.30", "壹仟零伍元叁角"),
    ("10010", "壹万零壹拾元整"),
    ("100000", "壹拾万元整"),
    ("1001000", "壹佰万壹仟元整"),
    ("1000100", "壹佰万零壹佰元整"),
    ("20000000", "贰仟万元整"),
    ("100000001", "壹亿零壹元整"),
    ("1234567.89", "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"),
    ("-12.30", "负壹拾贰元叁角"),
    ("0.555", "伍角陆分"),  # rounded half up to the fen
])
def test_capital_amount(amount: str, words: str) -> None:
    assert capital_amount(amount) == words
    assert capital_amount(Decimal(amount)) == words


def test_an_amount_beyond_any_bill_is_refused() -> None:
    with pytest.raises(ValueError):
        capital_amount(Decimal("1e16"))
