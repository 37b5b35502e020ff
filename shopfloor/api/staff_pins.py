"""A staff member's PIN from an integration (the manager's /setup does the same): a reset gives a new random
one-time PIN, answered once; a chosen PIN is one-time too. Either way the person chooses their own at their next
sign-in (shopfloor/services/staff_pins.py). Changing one's own PIN is a person's act on a staff page, not an
integration's."""
# No `from __future__ import annotations` in shopfloor/api: FastAPI reads the annotations at runtime.

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from shopfloor.api.access import Caller, GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.errors import BODY_ERRORS, unprocessable
from shopfloor.api.fields import Id
from shopfloor.api.shapes import Shape
from shopfloor.contract.staff import Permission
from shopfloor.services.staff_pins import PinService

router = APIRouter(route_class=GuardedRoute, tags=["setup: staff PINs"])
ONE_TIME = ("one-time: the person signs in with it once and must then choose their own PIN before any staff page "
            "opens")
WEAK = "a PIN that is not 4–8 digits, is one digit repeated (0000) or a straight run (1234, 4321, 7890)"


class PinResetOut(Shape):
    pin: str = Field(pattern=r"^[0-9]{6}$", description=f"the new PIN, 6 digits, shown only in this answer; {ONE_TIME}")
    must_change: Literal[True] = Field(description="always true: the PIN is one-time")


class PinSetOut(Shape):
    must_change: Literal[True] = Field(description="always true: the PIN is one-time")


class PinBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pin: str = Field(min_length=1, max_length=8, description=f"4–8 digits; {ONE_TIME}")


@router.post("/setup/staff/{staff_id}/pin-reset", summary="Reset a staff member's PIN to a new one-time PIN",
             responses=unprocessable())
def post_pin_reset(api: Services, caller: Annotated[Caller, allowed(Permission.SETUP)], staff_id: Id) -> PinResetOut:
    """A new random 6-digit PIN (the database keeps only its hash); any wait after wrong PINs ends. 404: no such
    staff member at this site."""
    pin = PinService(api.ctx).reset(staff_id, caller.actor)
    return PinResetOut(pin=pin, must_change=True)


@router.post("/setup/staff/{staff_id}/pin", summary="Give a staff member a chosen one-time PIN",
             responses=BODY_ERRORS | unprocessable(WEAK))
def post_pin(api: Services, caller: Annotated[Caller, allowed(Permission.SETUP)], staff_id: Id,
             body: PinBody) -> PinSetOut:
    """The PIN is not answered back. 404: no such staff member at this site."""
    PinService(api.ctx).set_pin(staff_id, body.pin, caller.actor)
    return PinSetOut(must_change=True)
