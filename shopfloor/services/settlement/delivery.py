"""The completion check (完工检查), telling the customer the car is ready, the delivery walk with the customer and
the delivery sheet with the next-service reminder; a mistaken delivery reopened by the manager."""

from __future__ import annotations

from shopfloor.services.context import ServiceContext
from shopfloor.services.printing import PrintService
from shopfloor.services.settlement.settlement import SettlementService


class DeliveryService:
    def __init__(self, ctx: ServiceContext, settlement: SettlementService, printing: PrintService) -> None:
        self.ctx = ctx
        self.settlement = settlement
        self.printing = printing
