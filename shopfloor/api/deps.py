"""The services behind the API, as one object on the app it is installed on (so several servers in one process,
as in the tests, each answer from their own database), and the FastAPI dependency that hands it to a route."""

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from shopfloor.credentials import ApiToken
from shopfloor.services.aftercare.services import AftercareServices
from shopfloor.services.appointments import AppointmentService
from shopfloor.services.audit import AuditService
from shopfloor.services.booking import BookingService
from shopfloor.services.checkin import CheckinService
from shopfloor.services.context import ServiceContext
from shopfloor.services.customer_messages.services import MessageServices
from shopfloor.services.customers import CustomerService
from shopfloor.services.dms_import import DmsImportService
from shopfloor.services.kpis import KpiService
from shopfloor.services.parts.services import PartsServices
from shopfloor.services.printing import PrintService
from shopfloor.services.reception.services import ReceptionServices
from shopfloor.services.repair_orders import RepairOrderService
from shopfloor.services.settlement.services import SettlementServices
from shopfloor.services.setup.catalogue import CatalogueSetup
from shopfloor.services.setup.tokens import TokenAdmin
from shopfloor.services.workshop.services import WorkshopServices

_STATE_KEY = "shopfloor_api"


@dataclass(frozen=True)
class ApiServices:
    """What the routes call, and the tokens that may call them."""

    ctx: ServiceContext
    tokens: tuple[ApiToken, ...]
    checkin: CheckinService
    repair_orders: RepairOrderService
    appointments: AppointmentService
    printing: PrintService
    booking: BookingService
    customers: CustomerService
    dms_import: DmsImportService
    audit: AuditService
    workshop: WorkshopServices
    parts: PartsServices
    reception: ReceptionServices
    settlement: SettlementServices
    messages: MessageServices
    aftercare: AftercareServices
    kpis: KpiService
    token_admin: TokenAdmin  # the API clients made in /setup, beside `tokens` (credentials.toml)
    catalogue: CatalogueSetup  # the site configuration file and the catalogues, shared with /setup's tabs

    @classmethod
    def on(cls, ctx: ServiceContext, tokens: Iterable[ApiToken], *, catalogue: CatalogueSetup,
           checkin: CheckinService | None = None,
           repair_orders: RepairOrderService | None = None, appointments: AppointmentService | None = None,
           printing: PrintService | None = None, booking: BookingService | None = None,
           customers: CustomerService | None = None, workshop: WorkshopServices | None = None,
           parts: PartsServices | None = None, reception: ReceptionServices | None = None,
           settlement: SettlementServices | None = None, messages: MessageServices | None = None,
           aftercare: AftercareServices | None = None, kpis: KpiService | None = None,
           token_admin: TokenAdmin | None = None) -> "ApiServices":
        """The server passes the service objects it already has (one of each per server); what is left out
        is made on `ctx`. `catalogue` is never made here: it writes the site's configuration file, which only
        the caller knows (a default in a temporary folder would lose the manager's changes)."""
        printing = printing or PrintService(ctx)
        callers = tuple(tokens)
        return cls(ctx=ctx, tokens=callers, catalogue=catalogue,
                   token_admin=token_admin or TokenAdmin(ctx, reserved_names=(t.name for t in callers)),
                   checkin=checkin or CheckinService(ctx),
                   repair_orders=repair_orders or RepairOrderService(ctx),
                   appointments=appointments or AppointmentService(ctx), printing=printing,
                   booking=booking or BookingService(ctx), customers=customers or CustomerService(ctx),
                   dms_import=DmsImportService(ctx), audit=AuditService(ctx),
                   workshop=workshop or WorkshopServices.on(ctx), parts=parts or PartsServices.on(ctx),
                   # without the server's: photos in a folder of their own, links on the default address
                   reception=reception or ReceptionServices.on(
                       ctx, Path(tempfile.mkdtemp(prefix="shopfloor-photos-")), "http://localhost:8080"),
                   settlement=settlement or SettlementServices.on(ctx, printing, "http://localhost:8080"),
                   messages=messages or MessageServices.on(ctx), aftercare=aftercare or AftercareServices.on(ctx),
                   kpis=kpis or KpiService(ctx))


def attach(app: FastAPI, services: ApiServices) -> None:
    setattr(app.state, _STATE_KEY, services)


def _services(request: Request) -> ApiServices:
    services = getattr(request.app.state, _STATE_KEY)
    assert isinstance(services, ApiServices)
    return services


Services = Annotated[ApiServices, Depends(_services)]
