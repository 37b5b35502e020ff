"""What the settlement list (机动车维修结算清单, JT/T 1133) carries, as text and plain values: one document for the A4
PDF and the receipt printer, kept as JSON with its print job so a reprint or a move prints the same list."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
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
