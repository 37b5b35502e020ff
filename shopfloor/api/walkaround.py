"""/repair-orders/{number}/walkaround (issue 11, reception: steps 3–5)."""

from fastapi import APIRouter

from shopfloor.api.access import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["reception"])
