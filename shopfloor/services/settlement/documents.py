"""The settlement list: on the reception printer and as an A4 PDF with the fields of the national maintenance
settlement list (JT/T 1133); the settled orders as the regional health-record platform takes them (JT/T 1132)."""

from __future__ import annotations

from shopfloor.services.context import ServiceContext
from shopfloor.services.printing import PrintService
from shopfloor.services.settlement.settlement import SettlementService


class SettlementDocuments:
    def __init__(self, ctx: ServiceContext, settlement: SettlementService, printing: PrintService,
                 server_url: str) -> None:
        self.ctx = ctx
        self.settlement = settlement
        self.printing = printing
        self.server_url = server_url
