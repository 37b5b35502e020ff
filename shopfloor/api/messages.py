"""customer messages (issue 12)."""

from fastapi import APIRouter

from shopfloor.api.access import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["customer messages"])
