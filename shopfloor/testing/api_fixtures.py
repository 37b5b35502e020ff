"""The JSON API alone on a bare FastAPI app, as the server mounts it, for tests that call it in process."""

from __future__ import annotations

import tempfile
from pathlib import Path

import tomli_w
from fastapi import FastAPI

from shopfloor import credentials as credentials_mod
from shopfloor.api.app import install
from shopfloor.api.deps import ApiServices
from shopfloor.contract.staff import StaffRole
from shopfloor.credentials import API_TOKEN_NAME, ApiToken
from shopfloor.services.context import ServiceContext
from shopfloor.services.printing import PrintService
from shopfloor.services.setup.catalogue import CatalogueSetup
from shopfloor.services.setup.site_config import SiteConfigService, write_atomically


def integrator(token: str) -> ApiToken:
    """The [api] token's caller: named "api", holding every role."""
    return ApiToken(API_TOKEN_NAME, token, frozenset(StaffRole))


def catalogue_setup(ctx: ServiceContext, printing: PrintService, data_dir: Path | None = None) -> CatalogueSetup:
    """/setup's catalogues on a data directory of their own (a temporary one unless given): its site.toml written
    from `ctx`'s settings, so that a test's configuration changes land there, never in the repository's demo
    file; and a credentials.toml with an account per printer, where a new printer's account is added."""
    folder = data_dir or Path(tempfile.mkdtemp(prefix="shopfloor-site-"))
    path = folder / "site.toml"
    if not path.exists():
        write_atomically(path, tomli_w.dumps(SiteConfigService(ctx, path).document()))
    if (folder / credentials_mod.FILE_NAME).exists():
        creds = credentials_mod.load(folder)
    else:
        creds = credentials_mod.generate([], [p.name for p in ctx.settings.printers])
        credentials_mod.write(folder / credentials_mod.FILE_NAME, creds)
    return CatalogueSetup.on(ctx, path, folder, creds, printing)


def api_app(ctx: ServiceContext, token: str, *more: ApiToken, catalogue: CatalogueSetup | None = None) -> FastAPI:
    """The API on `ctx`'s site, answering the integrator's `token` and any `more` named tokens; /setup's
    catalogues from `catalogue`, else on a temporary data directory (catalogue_setup)."""
    app = FastAPI()
    printing = catalogue.printers.printing if catalogue else PrintService(ctx)
    install(app, ApiServices.on(ctx, [integrator(token), *more], printing=printing,
                                catalogue=catalogue or catalogue_setup(ctx, printing)))
    return app
