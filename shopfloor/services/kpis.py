"""The service KPIs (/manager/figures, GET /api/v1/kpis): each figure with its numerator, denominator and the
formula it is counted by (the trade defines them differently; ours are written beside each, from the locale
files [kpis.formula], and the queries that count them are in services/kpis_counts.py).

A report covers first..last (site days) and splits it per day, ISO week or calendar month (cut to the range).
Every figure of a period is its numerator summed over its days ÷ its denominator summed over its days (never a
mean of daily rates), so the days of a week add up to the week. The exceptions are the lapsed shares, which are
snapshots as of the period's last day (`additive` False).

Rates are shares within 0..1, except efficiency and proficiency (flat-rate hours against clock hours: a good
technician beats the clock, NADA's references are 125 % and 100 %): `BOUNDED` lists the shares."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from shopfloor.domain.aftersales import ProblemClass
from shopfloor.domain.errors import Invalid
from shopfloor.i18n import t
from shopfloor.services.context import ServiceContext
from shopfloor.services.kpis_counts import CENT, LAPSED_MONTHS, Tally, day_tallies, lapsed

MAX_DAYS = 400
BY = ("day", "week", "month")
LANGS = ("zh-CN", "en")
CLASSES = tuple(c.value for c in ProblemClass)

# (key, unit, kind): rate = n ÷ d; mean = n ÷ d in the unit; count and money = the numerator alone
FIGURES: tuple[tuple[str, str, str], ...] = (
    ("intake", "count", "count"),
    ("appointment_rate", "rate", "rate"),
    ("show_rate", "rate", "rate"),
    ("on_time_first", "rate", "rate"),
    ("on_time_last", "rate", "rate"),
    ("first_time_fix", "rate", "rate"),
    ("productivity", "rate", "rate"),
    ("efficiency", "rate", "rate"),
    ("proficiency", "rate", "rate"),
    ("hours_per_order", "hours", "mean"),
    ("labour_revenue", "CNY", "money"),
    ("parts_revenue", "CNY", "money"),
    ("customer_paid", "CNY", "money"),
    ("average_ticket", "CNY", "mean_money"),
    ("reach_3dc", "rate", "rate"),
    ("csi", "score", "mean"),
    ("csi_top", "rate", "rate"),
    ("complaints_opened", "count", "count"),
    *((f"complaints.{c}", "count", "count") for c in CLASSES),
    ("complaints_on_time", "rate", "rate"),
    ("first_service_return", "rate", "rate"),
    *((f"lapsed_{m}", "rate", "rate") for m in LAPSED_MONTHS),
    ("insurance_renewal", "rate", "unknown"),
)
KEYS = tuple(key for key, _, _ in FIGURES)
BOUNDED = frozenset(key for key, unit, _ in FIGURES if unit == "rate") - {"efficiency", "proficiency"}
SNAPSHOTS = frozenset(f"lapsed_{m}" for m in LAPSED_MONTHS)


@dataclass(frozen=True)
class Target:
    value: float
    high: float | None = None  # a band: productivity 85–87.5 %


@dataclass(frozen=True)
class Figure:
    key: str
    unit: str  # rate | hours | CNY | count | score
    value: float | int | Decimal | None  # None: nothing to divide by (or, insurance renewal, nothing recorded)
    numerator: float | int | Decimal | None
    denominator: float | int | None
    formula: Mapping[str, str]  # language -> text
    target: Target | None = None
    additive: bool = True  # False: a snapshot as of the period's last day

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "unit": self.unit, "value": _json(self.value),
                               "numerator": _json(self.numerator), "denominator": _json(self.denominator),
                               "formula": dict(self.formula), "additive": self.additive}
        if self.target is not None:
            out["target"] = {"value": self.target.value, **({"high": self.target.high} if self.target.high else {})}
        return out


@dataclass(frozen=True)
class Period:
    key: str  # 2026-03-02, 2026-W10, 2026-03
    first: date
    last: date
    figures: list[Figure]

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "first": self.first.isoformat(), "last": self.last.isoformat(),
                "figures": [f.to_dict() for f in self.figures]}


@dataclass(frozen=True)
class KpiReport:
    first: date
    last: date
    by: str
    figures: list[Figure]
    periods: list[Period] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat(), "by": self.by,
                "figures": [f.to_dict() for f in self.figures], "periods": [p.to_dict() for p in self.periods]}

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)


def _json(value: float | int | Decimal | None) -> float | int | str | None:
    if isinstance(value, Decimal):
        return str(value.quantize(CENT))
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 53:
        return int(value)
    return value


@functools.cache  # the catalogues are loaded once per process
def formula(key: str) -> Mapping[str, str]:
    if key.startswith("complaints."):
        cls = key.split(".", 1)[1]
        return MappingProxyType({lang: t(lang, "kpis.formula.complaints_by_class", cls=t(lang, f"kpis.class.{cls}"))
                                 for lang in LANGS})
    return MappingProxyType({lang: t(lang, f"kpis.formula.{key}") for lang in LANGS})


def periods_of(first: date, last: date, by: str) -> list[tuple[str, list[date]]]:
    """The periods of first..last: each day, each ISO week or each calendar month, cut to the range."""
    out: dict[str, list[date]] = {}
    day = first
    while day <= last:
        if by == "week":
            iso = day.isocalendar()
            key = f"{iso.year}-W{iso.week:02d}"
        elif by == "month":
            key = f"{day.year}-{day.month:02d}"
        else:
            key = day.isoformat()
        out.setdefault(key, []).append(day)
        day += timedelta(days=1)
    return list(out.items())


class KpiService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def targets(self) -> dict[str, Target]:
        cfg = self.ctx.settings.kpi
        return {"productivity": Target(cfg.productivity_target, cfg.productivity_target_high),
                "efficiency": Target(cfg.efficiency_target), "proficiency": Target(cfg.proficiency_target),
                "insurance_renewal": Target(cfg.insurance_renewal_target)}

    def report(self, first: date, last: date, by: str = "day") -> KpiReport:
        if by not in BY:
            raise Invalid("kpis.error.by")
        if last < first:
            raise Invalid("figures.error.range")
        if (last - first).days + 1 > MAX_DAYS:
            raise Invalid("figures.error.too_long", days=MAX_DAYS)
        with self.ctx.db.read() as s:
            days = day_tallies(s, self.ctx, first, last)
            periods = periods_of(first, last, by)
            # snapshots as of each period's end (a period ending today or later: as of now)
            now = self.ctx.now()
            ends = [min(self.ctx.day_bounds(members[-1])[1], now) for _, members in periods]
            snaps = dict(zip([key for key, _ in periods], lapsed(s, self.ctx, ends), strict=True))
            total_snap = snaps[periods[-1][0]]
        targets = self.targets()
        out_periods = []
        total = Tally()
        for key, members in periods:
            tally = Tally()
            for d in members:
                tally.add(days[(d - first).days])
            total.add(tally)
            out_periods.append(Period(key, members[0], members[-1], self._figures(tally, snaps[key], targets)))
        return KpiReport(first, last, by, self._figures(total, total_snap, targets), out_periods)

    def _figures(self, tally: Tally, snap: Tally, targets: dict[str, Target]) -> list[Figure]:
        return [self._figure(key, unit, kind, snap if key in SNAPSHOTS else tally, targets.get(key))
                for key, unit, kind in FIGURES]

    @staticmethod
    def _figure(key: str, unit: str, kind: str, tally: Tally, target: Target | None) -> Figure:
        n, d = tally.n.get(key, 0.0), tally.d.get(key, 0.0)
        text = formula(key)
        additive = key not in SNAPSHOTS
        if kind == "count":
            return Figure(key, unit, int(n), int(n), None, text, target, additive)
        if kind == "money":
            m = tally.cny.get(key, Decimal(0)).quantize(CENT)
            return Figure(key, unit, m, m, None, text, target, additive)
        if kind == "mean_money":
            m = tally.cny.get(key, Decimal(0)).quantize(CENT)
            value = (m / Decimal(int(d))).quantize(CENT) if d else None
            return Figure(key, unit, value, m, int(d), text, target, additive)
        if kind == "unknown":  # the base is known, what happened to it is not recorded
            return Figure(key, unit, None, None, int(d), text, target, additive)
        digits = 4 if kind == "rate" else 2
        return Figure(key, unit, round(n / d, digits) if d else None, _tidy(n), _tidy(d), text, target, additive)


def _tidy(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 2)


def csv_rows(report: KpiReport, lang: str) -> Iterable[list[str]]:
    """The report as CSV rows: the range's figures, then each period's, one figure a row."""
    yield [t(lang, f"kpis.csv.{c}") for c in ("period", "first", "last", "key", "name", "value", "numerator",
                                               "denominator", "unit", "target", "formula")]
    rows = [(t(lang, "kpis.csv.range"), report.first, report.last, report.figures),
            *((p.key, p.first, p.last, p.figures) for p in report.periods)]
    for key, first, last, figures in rows:
        for f in figures:
            yield [key, first.isoformat(), last.isoformat(), f.key, name(f.key, lang), _cell(f.value),
                   _cell(f.numerator), _cell(f.denominator), f.unit,
                   "" if f.target is None else _cell(f.target.value), f.formula.get(lang, f.formula["en"])]


def name(key: str, lang: str) -> str:
    if key.startswith("complaints."):
        return t(lang, "kpis.name.complaints_by_class", cls=t(lang, f"kpis.class.{key.split('.', 1)[1]}"))
    return t(lang, f"kpis.name.{key}")


def _cell(value: object) -> str:
    j = _json(value) if isinstance(value, float | int | Decimal) or value is None else value
    return "" if j is None else str(j)
