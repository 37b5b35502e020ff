"""Step 12's services, made once per server."""

from __future__ import annotations

from dataclasses import dataclass

from shopfloor.services.aftercare.complaints import ComplaintService
from shopfloor.services.aftercare.follow_ups import FollowUpService
from shopfloor.services.context import ServiceContext


@dataclass(frozen=True)
class AftercareServices:
    follow_ups: FollowUpService
    complaints: ComplaintService

    @classmethod
    def on(cls, ctx: ServiceContext) -> AftercareServices:
        return cls(follow_ups=FollowUpService(ctx), complaints=ComplaintService(ctx))
