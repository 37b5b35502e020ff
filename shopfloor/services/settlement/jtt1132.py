"""One record per settled order for the regional maintenance health-record platform (汽车维修电子健康档案系统,
JT/T 1132), as JSON and CSV, ready for the site's own upload. docs/jtt1132.md lists each field.

The platform's own names are kept for its data elements (companyname, vehicleplatenumber, vin, repairdate,
repairmileage, settledate, faultdescription, costlistcode; repairprojectlist of repairproject/workinghours;
vehiclepartslist of partsname/partscode/partsquantity), every value a string and dates as YYYYMMDD as integrators'
upload code sends them; what shopfloor adds (the licence, the model, prices and costs) sits apart under "shopfloor"
so an uploader can drop it whole."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

PLATFORM_DAY = "%Y%m%d"
# one row per settlement; the lists as JSON text in their columns (a cell cannot hold rows)
CSV_COLUMNS = ("costlistcode", "companyname", "licence_number", "vehicleplatenumber", "vin", "vehicle_model",
               "repairdate", "settledate", "repairmileage", "faultdescription", "repairprojectlist",
               "vehiclepartslist", "parts_prices", "labour_cost", "parts_cost", "discount", "total_cost",
               "customer_cost", "paid", "currency", "settled_at", "repair_category")


@dataclass(frozen=True)
class Settled:
    """What one record is made of: read in one pass over the orders settled in the range."""

    number: str
    company: str
    licence_number: str
    plate: str  # as displayed (京A·12345)
    vin: str
    model: str
    opened_at: datetime
    settled_at: datetime
    mileage_km: int | None
    complaint: str
    category: str  # maintenance | repair
    lines: Sequence[dict[str, Any]]  # estimate.priced_lines(): kind, description, code, quantity, unit_price, amount
    labour: Decimal
    parts: Decimal
    discount: Decimal
    customer_cost: Decimal
    paid: Decimal
    currency: str = "CNY"


def _hours(value: object) -> str:
    return f"{Decimal(str(value)):.2f}"


def _quantity(value: object) -> str:
    text = f"{Decimal(str(value)):.2f}".rstrip("0").rstrip(".")
    return text or "0"


def record(x: Settled, tz: tzinfo) -> dict[str, Any]:
    labour = [line for line in x.lines if line["kind"] == "labour"]
    parts = [line for line in x.lines if line["kind"] == "part"]
    projects = [{"repairproject": line["description"], "workinghours": _hours(line["quantity"])} for line in labour]
    # the platform asks what went wrong; a service visit with no words from the customer says what was done
    fault = x.complaint.strip() or "；".join(p["repairproject"] for p in projects)
    return {
        "basicInfo": {
            "companyname": x.company, "vehicleplatenumber": x.plate, "vin": x.vin,
            "repairdate": x.opened_at.astimezone(tz).strftime(PLATFORM_DAY),
            "repairmileage": "" if x.mileage_km is None else str(x.mileage_km),
            "faultdescription": fault,
            "settledate": x.settled_at.astimezone(tz).strftime(PLATFORM_DAY),
            "costlistcode": x.number},
        "repairprojectlist": projects,
        "vehiclepartslist": [{"partsname": p["description"], "partscode": p["code"] or "",
                              "partsquantity": _quantity(p["quantity"])} for p in parts],
        "shopfloor": {
            "licence_number": x.licence_number, "vehicle_model": x.model, "repair_category": x.category,
            "settled_at": x.settled_at.astimezone(tz).isoformat(timespec="seconds"),
            "parts_prices": [{"partscode": p["code"] or "", "partsname": p["description"],
                              "unit_price": f"{Decimal(str(p['unit_price'])):.2f}",
                              "amount": f"{Decimal(str(p['amount'])):.2f}", "payer": p["payer"]} for p in parts],
            "labour_cost": f"{x.labour:.2f}", "parts_cost": f"{x.parts:.2f}", "discount": f"{x.discount:.2f}",
            "total_cost": f"{x.labour + x.parts - x.discount:.2f}", "customer_cost": f"{x.customer_cost:.2f}",
            "paid": f"{x.paid:.2f}", "currency": x.currency},
    }


def as_json(records: Sequence[dict[str, Any]]) -> bytes:
    return json.dumps(list(records), ensure_ascii=False, indent=1).encode("utf-8")


def as_csv(records: Sequence[dict[str, Any]]) -> bytes:
    """UTF-8 with a byte-order mark: Excel, which most sites open it with, reads Chinese right only with one."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for r in records:
        ours = r["shopfloor"]
        row = {**r["basicInfo"], **{k: v for k, v in ours.items() if k != "parts_prices"},
               "repairprojectlist": json.dumps(r["repairprojectlist"], ensure_ascii=False),
               "vehiclepartslist": json.dumps(r["vehiclepartslist"], ensure_ascii=False),
               "parts_prices": json.dumps(ours["parts_prices"], ensure_ascii=False)}
        writer.writerow({k: _cell(row[k]) for k in CSV_COLUMNS})
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _cell(value: str) -> str:
    """A text cell Excel will not run as a formula (a complaint typed as '=…' or '+…')."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
