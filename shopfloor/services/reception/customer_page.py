"""The customer's own page behind an unguessable link: masked until the plate's last four characters are proven."""

from __future__ import annotations

from shopfloor.services.context import ServiceContext
from shopfloor.services.reception.estimate import EstimateService


class CustomerPageService:
    def __init__(self, ctx: ServiceContext, server_url: str, *, estimate: EstimateService) -> None:
        self.ctx, self.server_url, self.estimate = ctx, server_url.rstrip("/"), estimate
