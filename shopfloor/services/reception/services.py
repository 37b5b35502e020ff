"""Reception's services, made once per server on one context (the composition root and the API share them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shopfloor.services.context import ServiceContext
from shopfloor.services.reception.customer_page import CustomerPageService
from shopfloor.services.reception.documents import DocumentService
from shopfloor.services.reception.estimate import EstimateService
from shopfloor.services.reception.handover import HandoverService
from shopfloor.services.reception.photos import OrderPhotoService
from shopfloor.services.reception.walkaround import WalkaroundService


@dataclass(frozen=True)
class ReceptionServices:
    walkaround: WalkaroundService
    photos: OrderPhotoService
    estimate: EstimateService
    handover: HandoverService
    customer_page: CustomerPageService
    documents: DocumentService

    @classmethod
    def on(cls, ctx: ServiceContext, data_dir: Path, server_url: str) -> ReceptionServices:
        """`data_dir` keeps the photos; `server_url` is what the customer's link starts with."""
        estimate = EstimateService(ctx)
        walkaround, handover = WalkaroundService(ctx), HandoverService(ctx)
        customer_page = CustomerPageService(ctx, server_url, estimate=estimate)
        photos = OrderPhotoService(ctx, data_dir)
        return cls(walkaround=walkaround, photos=photos, estimate=estimate, handover=handover,
                   customer_page=customer_page,
                   documents=DocumentService(ctx, server_url, estimate=estimate, walkaround=walkaround,
                                             handover=handover, customer_page=customer_page, photos=photos))
