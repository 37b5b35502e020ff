"""When a new estimate version needs no signature: the customer's recorded decision on additional work (on their own
page, by phone, in person …) is their consent to exactly the lines that work brought. A version whose only
differences from the last signed one are such lines is consented by those decisions; anything else that moved (a
price or payer of a signed line, the discount, the promise, the terms, a part added to approved work afterwards)
still needs the customer's signature."""

from __future__ import annotations

from collections import Counter
from datetime import tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor.domain.errors import Invalid
from shopfloor.domain.models import RepairOrder
from shopfloor.domain.parts import normalize_number
from shopfloor.domain.walkaround import Payer
from shopfloor.domain.workshop import FindingStatus
from shopfloor.domain.workshop_models import AdditionalWork
from shopfloor.i18n import t

SIGNATURE = "signature"
DECISION = "decision"
CENT = Decimal("0.01")
# what follows from the lines: these differ whenever a line is added, and say nothing of their own
DERIVED = frozenset({"lines", "changes", "labour_total", "parts_total", "total", "customer_total", "payer_totals"})


def keyed(lines: list[dict[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Lines by (kind, job line, code, description, n-th such): the same line in two versions has the same key."""
    seen: Counter[tuple[Any, ...]] = Counter()
    out = {}
    for x in lines:
        key = (x["kind"], x["job_line_id"], x["code"], x["description"])
        seen[key] += 1
        out[(*key, seen[key])] = x
    return out


def _code(number: str) -> str:
    try:
        return normalize_number(number)
    except Invalid:
        return number.strip()


def _cent(value: object) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def _as_decided(finding: AdditionalWork, lines: list[dict[str, Any]]) -> bool:
    """The lines of the finding's job line are what the customer decided on: its hours once, its parts (number or
    name, quantity, and the price when one was quoted), paid by the customer."""
    labour = [x for x in lines if x["kind"] == "labour"]
    if len(labour) != 1 or _cent(labour[0]["quantity"]) != _cent(finding.hours):
        return False
    quoted = list(finding.parts or [])
    for x in lines:
        if x["payer"] != Payer.CUSTOMER.value:
            return False
        if x["kind"] != "part":
            continue
        match = next((p for p in quoted if _cent(p.get("quantity") or 1) == _cent(x["quantity"]) and (
            (x["code"] or "") == _code(str(p.get("number") or "")) if p.get("number") else
            x["description"] == str(p.get("name") or "")) and (
            p.get("unit_price") is None or _cent(p["unit_price"]) == _cent(x["unit_price"]))), None)
        if match is None:
            return False
        quoted.remove(match)
    return True


def consent_of(s: Session, ro: RepairOrder, content: dict[str, Any], signed: dict[str, Any] | None, lang: str,
               tz: tzinfo | None) -> tuple[str | None, list[str]]:
    """(DECISION, the decisions in the reader's words) when `content` differs from the last signed `signed` only
    by lines of approved additional work as decided; else (None, [])."""
    if signed is None:
        return None, []
    if any(signed.get(k) != content.get(k) for k in (set(signed) | set(content)) - DERIVED):
        return None, []
    before, after = keyed(signed.get("lines") or []), keyed(content.get("lines") or [])
    if any(k not in after or after[k] != x for k, x in before.items()):
        return None, []
    added: dict[int, list[dict[str, Any]]] = {}
    for k, x in after.items():
        if k not in before:
            added.setdefault(int(x["job_line_id"]), []).append(x)
    if not added:
        return None, []
    additional = {line.id for line in ro.job_lines if line.origin == "additional"}
    if not set(added) <= additional:
        return None, []
    findings = {f.job_line_id: f for f in s.scalars(select(AdditionalWork).where(
        AdditionalWork.repair_order_id == ro.id, AdditionalWork.job_line_id.in_(list(added)),
        AdditionalWork.status == FindingStatus.APPROVED.value))}
    if set(findings) != set(added) or not all(_as_decided(findings[j], x) for j, x in added.items()):
        return None, []
    said = []
    for f in sorted(findings.values(), key=lambda f: (f.decided_at is None, f.decided_at, f.id)):
        at = f.decided_at.astimezone(tz) if f.decided_at is not None and tz is not None else f.decided_at
        said.append(t(lang, "estimate.change.consented", method=t(lang, f"workshop.method.{f.decision_method}"),
                      time=at.strftime("%Y-%m-%d %H:%M") if at else "", line=f.description))
    return DECISION, said
