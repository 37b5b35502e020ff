"""/technicians and /operations: who works here, and the labour-operation catalogue with flat-rate hours."""

from fastapi import APIRouter
from pydantic import Field

from shopfloor.api.access import GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.shapes import Shape
from shopfloor.contract.entity_states import Skill, TechnicianState
from shopfloor.contract.staff import Permission

router = APIRouter(route_class=GuardedRoute, tags=["catalogue"])


class Operation(Shape):
    code: str
    name_zh: str
    name_en: str
    hours: float
    skill: Skill


class Technician(TechnicianState):
    badge: str = Field(description="the text the technician's QR badge carries (what a station scans to clock on)")


@router.get("/technicians", summary="Active technicians", dependencies=[allowed(Permission.CATALOGUE_READ)])
def list_technicians(api: Services) -> list[Technician]:
    badges = api.workshop.clocking.badges()
    return [Technician.model_validate({**t, "badge": badges[t["id"]]}) for t in api.repair_orders.technicians()]


@router.get("/operations", summary="The labour-operation catalogue", dependencies=[allowed(Permission.CATALOGUE_READ)])
def list_operations(api: Services) -> list[Operation]:
    return [Operation.model_validate({"code": o.code, "name_zh": o.name_zh, "name_en": o.name_en,
                                      "hours": float(o.hours), "skill": o.skill}) for o in api.checkin.operations()]
