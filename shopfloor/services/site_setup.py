"""Setting a site up in the database: the site itself, the staff who sign in (their roles and PINs), the
technicians with their weekly shifts, leave and closed days, the bays, and the labour catalogue.

A real site runs these from its own lists, once and when they change; the demo (shopfloor.demo.seed) calls them
with its made-up ones. They add to the caller's write transaction and commit nothing themselves. Opening hours,
the walk-in reserve and the other booking rules are the site's configuration ([site], [booking] in its TOML),
not rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor.contract.staff import StaffRole, format_roles, parse_roles
from shopfloor.domain.capacity import SKILLS
from shopfloor.domain.models import Advisor, Bay, Holiday, LabourOperation, Leave, Shift, Site, Technician
from shopfloor.domain.parts_models import Part
from shopfloor.domain.versions import next_version
from shopfloor.domain.workshop import new_badge_token
from shopfloor.services.auth import hash_pin, verify_pin
from shopfloor.services.context import ServiceContext


@dataclass(frozen=True)
class WeeklyShift:
    """The hours a technician works on each of `weekdays` (0 = Monday), less an unpaid break."""

    start: time
    end: time
    break_minutes: int
    weekdays: tuple[int, ...]


@dataclass(frozen=True)
class Operation:
    """A labour operation of the catalogue: flat-rate hours by skill class, and the bay kind it needs (alignment…);
    a maintenance package names its interval in km."""

    code: str
    name_zh: str
    name_en: str
    hours: str  # flat-rate hours, as written: "1.2"
    skill: str
    equipment: str | None = None
    interval_km: int | None = None


def has_site(ctx: ServiceContext) -> bool:
    with ctx.db.read() as s:
        return s.get(Site, ctx.site) is not None


def add_site(s: Session, ctx: ServiceContext) -> Site:
    site = Site(id=ctx.site, name=ctx.settings.site.name)
    s.add(site)
    s.flush()  # other rows refer to the site by key only, so the unit of work cannot order them itself
    return site


def add_staff(s: Session, ctx: ServiceContext, code: str, name: str, roles: Iterable[StaffRole | str] | str,
              pin: str) -> Advisor:
    """A person who signs in with name and PIN (stored as a hash only), holding one or more roles."""
    held = parse_roles(roles) if isinstance(roles, str) else frozenset(StaffRole(r) for r in roles)
    if not held:
        raise ValueError(f"{name}: a staff member holds at least one role")
    person = Advisor(site_id=ctx.site, code=code, name=name, roles=format_roles(held), pin_hash=hash_pin(pin),
                     version=next_version())
    s.add(person)
    return person


def sync_advisor_pins(session: Session, site_id: str, pins: dict[str, str]) -> None:
    """Set the PINs of the staff named in `pins` (credentials.toml [advisors]) where they differ; the database
    keeps only their hashes. These are the demo's published PINs, never one-time: a demo person whose PIN was reset
    gets the published one back, usable at once."""
    for advisor in session.scalars(select(Advisor).where(Advisor.site_id == site_id)):
        pin = pins.get(advisor.name)
        if pin is None:
            continue
        if not verify_pin(pin, advisor.pin_hash):
            advisor.pin_hash = hash_pin(pin)
        advisor.pin_must_change = False


def add_technician(s: Session, ctx: ServiceContext, name: str, skill: str, shift: WeeklyShift | None = None
                   ) -> Technician:
    """A technician of a skill class (maintenance, or repair: the skilled one); without a shift they work the
    [booking] default shift."""
    if skill not in SKILLS:
        raise ValueError(f"{name}: unknown skill {skill!r} (known: {', '.join(SKILLS)})")
    tech = Technician(site_id=ctx.site, name=name, skill=skill, version=next_version())
    s.add(tech)
    if shift is not None:
        set_shift(tech, shift)
    return tech


def reissue_badge(tech: Technician) -> str:
    """A new badge for a technician whose badge was lost: the old one no longer clocks anyone on. The text the new
    QR carries."""
    tech.badge = new_badge_token()
    return tech.badge


def set_shift(tech: Technician, shift: WeeklyShift) -> None:
    """The technician's weekly shift, replacing the one they had."""
    if not shift.start < shift.end or not all(0 <= d <= 6 for d in shift.weekdays):
        raise ValueError(f"{tech.name}: a shift ends after it starts, on weekdays 0 (Monday) to 6")
    tech.shifts.clear()
    tech.shifts.extend(Shift(weekday=d, start=shift.start, end=shift.end, break_minutes=shift.break_minutes)
                       for d in shift.weekdays)


def add_leave(s: Session, tech: Technician, day: date, reason: str, hours: Decimal | None = None) -> Leave:
    """A technician away on `day`: the whole day (hours None) or that many hours."""
    leave = Leave(technician_id=tech.id, day=day, hours=hours, reason=reason)
    s.add(leave)
    return leave


def add_holiday(s: Session, ctx: ServiceContext, day: date, name: str) -> Holiday:
    """A day the workshop is closed: no technician hours, nothing bookable."""
    holiday = Holiday(site_id=ctx.site, day=day, name=name)
    s.add(holiday)
    return holiday


def add_bays(s: Session, ctx: ServiceContext, kind: str, codes: Iterable[str]) -> list[Bay]:
    """Bays of one kind: "lift" for general work, or the special equipment a job needs ("alignment")."""
    bays = [Bay(site_id=ctx.site, code=code, kind=kind) for code in codes]
    s.add_all(bays)
    return bays


def add_operations(s: Session, ctx: ServiceContext, operations: Iterable[Operation]) -> list[LabourOperation]:
    out = []
    for op in operations:
        if op.skill not in SKILLS:
            raise ValueError(f"{op.code}: unknown skill {op.skill!r}")
        out.append(LabourOperation(site_id=ctx.site, code=op.code, name_zh=op.name_zh, name_en=op.name_en,
                                   hours=Decimal(op.hours), skill=op.skill, equipment=op.equipment,
                                   interval_km=op.interval_km))
    s.add_all(out)
    return out


def add_parts(s: Session, ctx: ServiceContext, parts: Iterable[tuple[str, str, str, str]], actor: str) -> list[Part]:
    """The parts catalogue: (number, name, price, stock on hand) each. A site imports its own from CSV at the
    parts counter (shopfloor.services.parts.imports)."""
    out = [Part(site_id=ctx.site, number=number, name=name, price=Decimal(price), stock=Decimal(stock),
                updated_at=ctx.now(), updated_by=actor) for number, name, price, stock in parts]
    s.add_all(out)
    return out
