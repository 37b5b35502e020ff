"""/setup's staff list: the people who sign in, their board code, roles, and whether they may sign in at all.

A new person gets a one-time PIN (PinService.reset: shown once, changed at the first sign-in); nobody's PIN is
ever read back. The site always keeps one active manager: the last one can neither be deactivated nor lose the
role, or nobody could reach /setup again. Every change is audited and put on the bus (the appointment board's
rows are the active advisors)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopfloor.contract.staff import StaffRole, format_roles, parse_roles
from shopfloor.domain.errors import Refused
from shopfloor.domain.models import Advisor
from shopfloor.domain.versions import next_version
from shopfloor.services import audit
from shopfloor.services.audit import Actor, Entity
from shopfloor.services.context import ServiceContext
from shopfloor.services.publishing import publish_advisor
from shopfloor.services.setup.csv_io import CsvImport, CsvRow, import_rows, read_rows, write_csv
from shopfloor.services.setup.people_common import (
    FieldInvalid,
    in_use_first,
    parse_active,
    row_columns,
    site_row,
    text_field,
)

COLUMNS = ("name", "code", "roles", "active")
MAX_NAME, MAX_CODE = 60, 8
NO_PIN = "!"  # not a hash: shopfloor.services.pins.verify_pin refuses every PIN against it


@dataclass(frozen=True)
class StaffView:
    id: int
    name: str
    code: str
    roles: tuple[str, ...]  # in StaffRole's order
    active: bool
    must_change_pin: bool
    locked: bool  # too many wrong PINs: locked for now


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_role_list(text: str | Iterable[str]) -> frozenset[StaffRole]:
    """Roles as a list or "advisor, manager" / "advisor;manager" (a spreadsheet's habit); Invalid naming an
    unknown one, or none."""
    items = text.replace(";", ",").replace("|", ",") if isinstance(text, str) else list(text)
    try:
        roles = parse_roles(items)
    except ValueError:
        known = ", ".join(r.value for r in StaffRole)
        raise FieldInvalid("roles", "setup_people.error.staff.unknown_role", known=known) from None
    if not roles:
        raise FieldInvalid("roles", "setup_people.error.staff.no_role")
    return roles


class StaffAdmin:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # -- reading --------------------------------------------------------------------------------------------
    def listing(self) -> list[StaffView]:
        with self.ctx.db.read() as s:
            rows = s.scalars(select(Advisor).where(Advisor.site_id == self.ctx.site))
            # in use first, then by board code as people read it (A2 before A10)
            return in_use_first((self._view(a) for a in rows), lambda v: v.code)

    def get(self, staff_id: int) -> StaffView:
        with self.ctx.db.read() as s:
            return self._view(self._person(s, staff_id))

    def _view(self, a: Advisor) -> StaffView:
        until = _aware(a.locked_until)
        return StaffView(a.id, a.name, a.code, tuple(r.value for r in StaffRole if r in a.role_set), a.active,
                         bool(a.pin_must_change), until is not None and until > self.ctx.now())

    # -- changes --------------------------------------------------------------------------------------------
    def add(self, name: str, code: str, roles: Iterable[str] | str, actor: Actor) -> tuple[StaffView, str]:
        """The new person and their one-time PIN (to hand over now: it is not shown again)."""
        with self.ctx.db.write() as s:
            person = self._add(s, name, code, roles, actor)
            staff_id = person.id
        return self.get(staff_id), self._one_time_pin(staff_id, actor)

    def edit(self, staff_id: int, actor: Actor, *, name: str | None = None, code: str | None = None,
             roles: Iterable[str] | str | None = None, active: bool | None = None) -> StaffView:
        """What is given changes, all or nothing (None: left as it is)."""
        with self.ctx.db.write() as s:
            person = self._person(s, staff_id)
            self._edit(s, person, actor, name=name, code=code, roles=roles)
            if active is not None:
                self._set_active(s, person, active, actor)
            return self._view(person)

    def set_active(self, staff_id: int, active: bool, actor: Actor) -> StaffView:
        with self.ctx.db.write() as s:
            person = self._person(s, staff_id)
            self._set_active(s, person, active, actor)
            return self._view(person)

    def reset_pin(self, staff_id: int, actor: Actor) -> str:
        """A new one-time PIN for a forgotten one (PinService audits it)."""
        self.get(staff_id)  # 404 before anything
        return self._one_time_pin(staff_id, actor)

    def _one_time_pin(self, staff_id: int, actor: Actor) -> str:
        from shopfloor.services.staff_pins import PinService

        return PinService(self.ctx).reset(staff_id, actor)

    # -- CSV ----------------------------------------------------------------------------------------------
    def export_csv(self) -> bytes:
        return write_csv(COLUMNS, ((v.name, v.code, ",".join(v.roles), "yes" if v.active else "no")
                                   for v in self.listing()))

    def import_csv(self, data: bytes, actor: Actor) -> tuple[CsvImport, dict[str, str]]:
        """Rows keyed by name: a known name is changed, a new one added. Returns the report and the one-time
        PIN of each person added (to hand over now)."""
        rows = read_rows(data, COLUMNS, required=("name",))
        added: dict[str, int] = {}
        with self.ctx.db.write() as s:
            def apply(row: CsvRow) -> str:
                with s.begin_nested():
                    return self._apply_row(s, row, actor, added)

            report = import_rows(rows, apply)
        return report, {name: self._one_time_pin(staff_id, actor) for name, staff_id in added.items()}

    def _apply_row(self, s: Session, row: CsvRow, actor: Actor, added: dict[str, int]) -> str:
        cells = row.cells
        with row_columns():
            name = text_field("name", cells.get("name", ""), MAX_NAME)
            active = parse_active("active", cells.get("active", ""))
            person = s.scalar(select(Advisor).where(Advisor.site_id == self.ctx.site, Advisor.name == name))
            code, roles = cells.get("code", ""), cells.get("roles", "")
            if person is None:
                if not code:
                    raise FieldInvalid("code", "setup_people.error.people.required", column="code")
                if not roles:
                    raise FieldInvalid("roles", "setup_people.error.staff.no_role")
                person = self._add(s, name, code, roles, actor, active=active is not False)
                added[name] = person.id
                return "added"
            before = (person.code, person.roles, person.active)
            self._edit(s, person, actor, name=None, code=code or None, roles=roles or None)
            if active is not None:
                self._set_active(s, person, active, actor)
            return "unchanged" if (person.code, person.roles, person.active) == before else "updated"

    # -- the rules ------------------------------------------------------------------------------------------
    def _add(self, s: Session, name: str, code: str, roles: Iterable[str] | str, actor: Actor, *,
             active: bool = True) -> Advisor:
        name = text_field("name", name, MAX_NAME)
        code = self._code(s, code, None)
        held = parse_role_list(roles)
        if s.scalar(select(Advisor.id).where(Advisor.site_id == self.ctx.site, Advisor.name == name)) is not None:
            raise Refused("setup_people.error.staff.name_taken", name=name)
        # no usable PIN until the one-time PIN is set just after: no PIN verifies against this
        person = Advisor(site_id=self.ctx.site, name=name, code=code, roles=format_roles(held),
                         pin_hash=NO_PIN, pin_must_change=True, active=active,
                         version=next_version())
        s.add(person)
        s.flush()
        audit.record(s, self.ctx, actor, Entity.STAFF, person.id, "staff_added", to_value=name,
                     detail={"code": code, "roles": person.roles, "active": active})
        publish_advisor(s, self.ctx, person)
        return person

    def _edit(self, s: Session, person: Advisor, actor: Actor, *, name: str | None, code: str | None,
              roles: Iterable[str] | str | None) -> None:
        changed: dict[str, list[str]] = {}
        if name is not None:
            name = text_field("name", name, MAX_NAME)
            if name != person.name:
                if s.scalar(select(Advisor.id).where(Advisor.site_id == self.ctx.site, Advisor.name == name,
                                                     Advisor.id != person.id)) is not None:
                    raise Refused("setup_people.error.staff.name_taken", name=name)
                changed["name"] = [person.name, name]
                person.name = name
        if code is not None:
            code = self._code(s, code, person.id)
            if code != person.code:
                changed["code"] = [person.code, code]
                person.code = code
        if roles is not None:
            stored = format_roles(parse_role_list(roles))
            if stored != person.roles:
                if StaffRole.MANAGER in person.role_set and StaffRole.MANAGER not in parse_roles(stored):
                    self._keep_a_manager(s, person)
                changed["roles"] = [person.roles, stored]
                person.roles = stored
        if changed:
            audit.record(s, self.ctx, actor, Entity.STAFF, person.id, "staff_changed", detail=changed)
            publish_advisor(s, self.ctx, person)

    def _set_active(self, s: Session, person: Advisor, active: bool, actor: Actor) -> None:
        if person.active == active:
            return
        if not active and StaffRole.MANAGER in person.role_set:
            self._keep_a_manager(s, person)
        person.active = active
        audit.record(s, self.ctx, actor, Entity.STAFF, person.id,
                     "staff_reactivated" if active else "staff_deactivated", to_value=person.name)
        publish_advisor(s, self.ctx, person)

    def _keep_a_manager(self, s: Session, leaving: Advisor) -> None:
        """Refused when `leaving` is the last active manager."""
        if not leaving.active:
            return
        others = s.scalars(select(Advisor).where(Advisor.site_id == self.ctx.site, Advisor.active.is_(True),
                                                 Advisor.id != leaving.id))
        if not any(StaffRole.MANAGER in a.role_set for a in others):
            raise Refused("setup_people.error.staff.last_manager", name=leaving.name)

    def _code(self, s: Session, code: str, own_id: int | None) -> str:
        """The board's row code: short, and not another active person's."""
        code = code.strip().upper()
        if not code or len(code) > MAX_CODE or any(c.isspace() for c in code):
            raise FieldInvalid("code", "setup_people.error.staff.code", max=MAX_CODE)
        taken = s.scalar(select(func.count()).select_from(Advisor).where(
            Advisor.site_id == self.ctx.site, func.upper(Advisor.code) == code, Advisor.active.is_(True),
            Advisor.id != (own_id or 0)))
        if taken:
            raise FieldInvalid("code", "setup_people.error.staff.code_taken", code=code)
        return code

    def _person(self, s: Session, staff_id: int) -> Advisor:
        return site_row(s, self.ctx, Advisor, staff_id, "setup_people.error.staff.not_found")

