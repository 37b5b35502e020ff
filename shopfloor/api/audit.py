"""/audit: who changed an appointment, a repair order or anything else the site keeps (staff, customers, the
setup's lists, site.toml, a restore), when, from what to what and why (the audit_log table, written by the services
in the same transaction as each change)."""

from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Query
from pydantic import Field

from shopfloor.api.access import GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.errors import unprocessable
from shopfloor.api.fields import DAY_REFUSED, MAX_ID, Text, parse_day
from shopfloor.api.shapes import Shape
from shopfloor.contract.payloads import DateTime
from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import Invalid
from shopfloor.services import views
from shopfloor.services.audit import Entity

router = APIRouter(route_class=GuardedRoute, tags=["audit"])
MAX_ROWS = 1000
EntityName = Literal["appointment", "repair_order", "staff", "part", "customer", "follow_up", "complaint",
                     "technician", "bay", "holiday", "operation", "site_config", "api_client", "display_screen",
                     "database"]
_ENTITIES = frozenset(get_args(EntityName))
# ids stored as str(id); the others are a number, part number, day, operation code, site.toml section or file
_NUMBERED = (Entity.APPOINTMENT, Entity.STAFF, Entity.CUSTOMER, Entity.FOLLOW_UP, Entity.COMPLAINT, Entity.TECHNICIAN,
             Entity.BAY, Entity.API_CLIENT, Entity.DISPLAY_SCREEN)
_ENTITY_LIST = ", ".join(get_args(EntityName))


class AuditEntry(Shape):
    id: int
    at: DateTime
    actor: str = Field(description="the staff member's name, the API token's name, or system")
    actor_kind: Literal["staff", "api", "system", "customer"]
    actor_id: int | None = Field(description="the staff member's id when actor_kind is staff")
    entity: EntityName
    entity_id: str = Field(description="the appointment's id, the repair order's number, the staff member's id, "
                                       "a part number (\"import\" for a catalogue import), the id of a customer, "
                                       "follow-up call, complaint, technician, bay, API client or wall screen, a "
                                       "holiday's day, an operation's code (\"csv\" for an import), site.toml's "
                                       "section, the database's file")
    action: str = Field(description="booked, moved, cancelled, call, checked_in, transition …")
    from_: str | None = Field(alias="from", description="the value before the change")
    to: str | None = Field(description="the value after it")
    reason: str | None
    detail: dict[str, Any] | None = Field(description="whatever else the change carried (open: it varies by action)")


def _which(entity: str, given_id: str | None) -> tuple[Entity, str | None]:
    """The entity (`staff` holds sign-in failures and waits), and the id from `entity=kind:id` or `id=`; a numbered
    entity's id as stored."""
    kind, colon, named = entity.partition(":")
    if kind.strip() not in _ENTITIES or (colon and not named.strip()):
        raise Invalid("api.audit.entity", entity=entity)
    which = Entity(kind.strip())
    named_id = named.strip() if colon else None
    given = given_id.strip() if given_id is not None else None
    if named_id and given and named_id != given:
        raise Invalid("api.audit.two_ids", first=named_id, second=given)
    ident = named_id or given or None
    if ident is not None and which in _NUMBERED:
        if not (ident.isdecimal() and len(ident) <= 10 and 0 < int(ident) <= MAX_ID):
            raise Invalid("api.audit.appointment_id", id=ident)
        ident = str(int(ident))  # stored as str(id): "042" names appointment 42
    return which, ident


@router.get("/audit", summary="The audit trail of appointments or repair orders, oldest first",
            dependencies=[allowed(Permission.AUDIT_READ)],
            description=f"At most {MAX_ROWS} rows: a wider question is refused (422), not cut short.",
            responses=unprocessable(f"an entity other than {_ENTITY_LIST}, two different ids, a numbered "
                                    f"entity's id that is no number, {DAY_REFUSED}, from after to, or more than "
                                    f"{MAX_ROWS} rows"))
def get_audit(api: Services,
              entity: Annotated[Text, Query(min_length=1, max_length=80, description=(
                  f"{_ENTITY_LIST} (staff holds sign-in failures and waits, part the parts catalogue, customer "
                  "a personal-data export or erasure, site_config site.toml's changes); with an id as one "
                  "parameter: appointment:42, repair_order:RO20261123-001, staff:3, part:04152-YZZA6, customer:12, "
                  "holiday:2026-10-01, operation:OIL"))],
              entity_id: Annotated[Text | None, Query(alias="id", max_length=40, description=(
                  "the id as in entity=kind:id"))] = None,
              first: Annotated[Text | None, Query(alias="from", max_length=40, description=(
                  "YYYY-MM-DD, the site's day, included; default: since the beginning"))] = None,
              last: Annotated[Text | None, Query(alias="to", max_length=40, description=(
                  "YYYY-MM-DD, the site's day, included; default: up to now"))] = None) -> list[AuditEntry]:
    which, ident = _which(entity, entity_id)
    start = api.ctx.day_bounds(parse_day(first, api.ctx.today()))[0] if first else None
    end = api.ctx.day_bounds(parse_day(last, api.ctx.today()))[1] if last else None
    if start is not None and end is not None and start >= end:
        raise Invalid("api.audit.range", first=first, last=last)
    rows = api.audit.read(which, ident, start, end, limit=MAX_ROWS + 1)
    if len(rows) > MAX_ROWS:
        raise Invalid("api.audit.too_many", limit=MAX_ROWS)
    tz = api.ctx.tz
    return [AuditEntry.model_validate({
        "id": r.id, "at": views.iso(r.at, tz), "actor": r.actor, "actor_kind": r.actor_kind, "actor_id": r.actor_id,
        "entity": r.entity, "entity_id": r.entity_id, "action": r.action, "from": r.from_value, "to": r.to_value,
        "reason": r.reason, "detail": r.detail}) for r in rows]
