"""What the settlement list (机动车维修结算清单, JT/T 1133) carries, as text and plain values: one document for the A4
PDF and the receipt printer, kept as JSON with its print job so a reprint or a move prints the same list."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

DATES = ("date_in", "date_out", "settled_at")


@dataclass(frozen=True)
class ListItem:
    """A repair item (维修项目): flat-rate hours (工时) at the hourly rate (工时单价)."""

    description: str
    code: str
    hours: str  # "1.25"
    rate: str  # "300.00"
    amount: str
    payer: str  # customer, warranty, insurance, internal


@dataclass(frozen=True)
class ListPart:
    """A part or material (材料): 配件名称, 编号, 数量, 单价, 金额."""

    name: str
    number: str
    quantity: str
    unit_price: str
    amount: str
    payer: str


@dataclass(frozen=True)
class ListPayment:
    kind: str  # payment | refund
    method: str  # cash, card, alipay, wechat, account
    amount: str
    reference: str
    at: str  # local "YYYY-MM-DD HH:MM"


@dataclass(frozen=True)
class SettlementList:
    language: str
    # the repair enterprise (维修企业)
    site_name: str
    licence_number: str  # 道路运输经营许可证号
    address: str
    phone: str
    # the list and its customer (托修方)
    number: str  # the repair order's number: the list's number (结算清单编号)
    customer: str
    customer_phone: str
    # the vehicle
    plate: str
    vin: str
    model: str
    mileage_km: int | None
    date_in: datetime  # 进厂日期, site time
    date_out: datetime | None  # 出厂日期: when delivered
    settled_at: datetime | None  # 结算日期: when nothing was left to pay
    category: str  # 维修类别: maintenance | repair
    advisor: str
    cashier: str  # 结算员: who took the last payment ("" before any)
    items: tuple[ListItem, ...]
    parts: tuple[ListPart, ...]
    labour_total: str  # 工时费合计
    parts_total: str  # 材料费合计
    other_total: str  # 其他费用
    discount: str  # 优惠
    discount_reason: str
    total: str  # 总计: every line, whoever pays it, less the discount
    payer_totals: tuple[tuple[str, str], ...]  # (warranty|insurance|internal, amount) borne by others
    to_pay: str  # the customer's part
    paid: str  # 实收
    left: str
    payments: tuple[ListPayment, ...]
    warranty_days: int
    warranty_km: int
    currency: str = "CNY"

    def __post_init__(self) -> None:
        for value in (self.labour_total, self.parts_total, self.other_total, self.discount, self.total, self.to_pay,
                      self.paid, self.left):
            Decimal(value)  # raises on anything that is not an amount

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in DATES:
            data[key] = data[key].isoformat() if data[key] else None
        data["payer_totals"] = [list(pair) for pair in self.payer_totals]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SettlementList:
        values = dict(data)
        for key in DATES:
            values[key] = datetime.fromisoformat(values[key]) if values[key] else None
        values["items"] = tuple(ListItem(**x) for x in values["items"])
        values["parts"] = tuple(ListPart(**x) for x in values["parts"])
        values["payments"] = tuple(ListPayment(**x) for x in values["payments"])
        values["payer_totals"] = tuple((str(k), str(v)) for k, v in values["payer_totals"])
        return cls(**values)

    def digest(self) -> str:
        """Short and stable over the list's content: a new payment or a changed line is a new version of the paper
        (a first print), the same content asked for again a REPRINT."""
        raw = json.dumps(self.to_json(), sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(raw).hexdigest()[:16]


DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ("", "拾", "佰", "仟")
GROUPS = ("", "万", "亿", "万亿")  # each four digits up


def _four(n: int) -> str:
    """0 < n < 10000 in capitals, a zero said once between figures (1005 壹仟零伍) and none at the end (1500)."""
    words, gap = "", False
    for place in range(3, -1, -1):
        digit = n // 10 ** place % 10
        if digit == 0:
            gap = gap or bool(words)
            continue
        words += ("零" if gap else "") + DIGITS[digit] + PLACES[place]
        gap = False
    return words


def capital_amount(value: Decimal | str) -> str:
    """An amount in yuan as the Chinese capital numerals written beside a total on a bill (大写金额), so that a figure
    cannot be altered: 1919.00 壹仟玖佰壹拾玖元整, 208.50 贰佰零捌元伍角, 100.05 壹佰元零伍分, 0 零元整. Rounded to
    the fen; a negative amount begins with 负."""
    amount = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "负" if amount < 0 else ""
    fen_total = int(abs(amount) * 100)
    yuan, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    if yuan >= 10 ** 16:
        raise ValueError(f"{value} is too large for a bill")
    groups = [yuan // 10 ** (4 * i) % 10000 for i in range(len(GROUPS))]
    words, gap = "", False
    for i in range(len(GROUPS) - 1, -1, -1):
        if groups[i] == 0:
            gap = gap or bool(words)
            continue
        # a zero between groups: 壹万零壹拾 (10010), 壹亿零壹 (100000001), but 壹佰万壹仟 (1001000)
        if words and (gap or groups[i] < 1000):
            words += "零"
        words += _four(groups[i]) + GROUPS[i]
        gap = False
    if words:
        words += "元"
    if jiao == 0 and fen == 0:
        return sign + (words or "零元") + "整"
    if jiao:
        words += DIGITS[jiao] + "角"
    elif words:
        words += "零"  # 壹佰元零伍分
    if fen:
        words += DIGITS[fen] + "分"
    return sign + words
