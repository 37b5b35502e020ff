"""settlement list, JT/T 1132 export (issue 12)."""

from fastapi import APIRouter

from shopfloor.api.access import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["settlement list, JT/T 1132 export"])
