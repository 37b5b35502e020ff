"""/setup's catalogues and the site's configuration as one object: the server makes it once and hands the same one
to /setup's tabs and to the API (ApiServices.catalogue), so a change made in one is what the other reads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shopfloor.credentials import Credentials
from shopfloor.services.context import ServiceContext
from shopfloor.services.printing import PrintService
from shopfloor.services.setup.operations import OperationsService
from shopfloor.services.setup.parts_catalogue import PartsCatalogueSetup
from shopfloor.services.setup.printers import PrinterSetup
from shopfloor.services.setup.site_config import SiteConfigService
from shopfloor.services.setup.templates import TemplateSetup


@dataclass(frozen=True)
class CatalogueSetup:
    config: SiteConfigService
    operations: OperationsService
    parts: PartsCatalogueSetup
    printers: PrinterSetup
    templates: TemplateSetup

    @classmethod
    def on(cls, ctx: ServiceContext, config_path: Path, data_dir: Path, credentials: Credentials,
           printing: PrintService) -> CatalogueSetup:
        """`config_path`: the site.toml the server runs on (changes are written there); `data_dir` and
        `credentials`: where a new printer's MQTT account is written."""
        config = SiteConfigService(ctx, config_path)
        return cls(config=config, operations=OperationsService(ctx), parts=PartsCatalogueSetup(ctx),
                   printers=PrinterSetup(ctx, config, printing, data_dir, credentials),
                   templates=TemplateSetup(ctx, config))
