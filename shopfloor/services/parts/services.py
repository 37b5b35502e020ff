"""The parts counter's services, made once per server on one context (the composition root and the API share them)."""

from __future__ import annotations

from dataclasses import dataclass

from shopfloor.services.context import ServiceContext
from shopfloor.services.parts.catalogue import CatalogueService
from shopfloor.services.parts.counter import CounterService
from shopfloor.services.parts.imports import PartsImportService


@dataclass(frozen=True)
class PartsServices:
    catalogue: CatalogueService
    imports: PartsImportService
    counter: CounterService

    @classmethod
    def on(cls, ctx: ServiceContext) -> PartsServices:
        return cls(CatalogueService(ctx), PartsImportService(ctx), CounterService(ctx))
