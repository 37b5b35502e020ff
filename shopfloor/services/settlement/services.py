"""Settlement and delivery's services, made once per server on one context (the composition root and the API
share them)."""

from __future__ import annotations

from dataclasses import dataclass

from shopfloor.printer.delivery_sheet import render_delivery_sheet
from shopfloor.services.context import ServiceContext
from shopfloor.services.printing import DELIVERY_SHEET, PrintService
from shopfloor.services.settlement.delivery import DeliveryService
from shopfloor.services.settlement.documents import SettlementDocuments
from shopfloor.services.settlement.settlement import SettlementService


@dataclass(frozen=True)
class SettlementServices:
    settlement: SettlementService
    delivery: DeliveryService
    documents: SettlementDocuments

    @classmethod
    def on(cls, ctx: ServiceContext, printing: PrintService, server_url: str) -> SettlementServices:
        settlement = SettlementService(ctx)
        printing.register_document(DELIVERY_SHEET, render_delivery_sheet)
        return cls(settlement=settlement, delivery=DeliveryService(ctx, settlement, printing),
                   documents=SettlementDocuments(ctx, settlement, printing, server_url))
