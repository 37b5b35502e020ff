"""How the web server (kiosk, boards, API) faces the shop LAN, which the customers' Wi-Fi may share.

- HTTPS (`--https` or `[web] https = true`) with a certificate from the site's own CA, the one Mosquitto's TLS
  listener uses (DATA_DIR/tls/ca.crt: tablets and wall screens trust it once). The web server has its own
  certificate and key there (web.crt, web.key: only the server's user reads the key), naming this host's names
  and addresses plus `[web] https_names`.
- The session cookie is `Secure` under HTTPS (never sent over plain HTTP), SameSite=Lax, HttpOnly, and lives as
  long as the session files are kept (session_storage.SESSION_LIFETIME).
- The guards of web_security (headers, proxy headers, body size), the browser sessions under DATA_DIR/sessions,
  and the sign-in route that gives a browser a new session id.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from shopfloor.broker.certs import ServerCertificate, is_ip_address, site_certificate
from shopfloor.settings import Settings, WebSettings
from shopfloor.web import security as web_security
from shopfloor.web import session_storage

WEB_CERT = "web.crt"
WEB_KEY = "web.key"
_WILDCARD_HOSTS = ("", "0.0.0.0", "::")


def https_certificate(data_dir: Path, site: str, extra_names: Sequence[str] = ()) -> ServerCertificate:
    """DATA_DIR/tls/web.crt and web.key from the site's CA (made once and kept, shared with Mosquitto's
    listener), for this host and `extra_names` (DNS names or IP addresses); re-issued when those change."""
    return site_certificate(data_dir, site, [n for n in extra_names if not is_ip_address(n)],
                            [n for n in extra_names if is_ip_address(n)], cert_name=WEB_CERT, key_name=WEB_KEY,
                            broker_reads=False)


def session_cookie(https: bool) -> dict[str, Any]:
    """Starlette SessionMiddleware's options for NiceGUI's session cookie."""
    return {"https_only": https, "same_site": "lax",
            "max_age": int(session_storage.SESSION_LIFETIME.total_seconds())}


def prepare(app: FastAPI, data_dir: Path, web: WebSettings, photo_max_mb: int | None = None) -> None:
    """Before ui.run: the guards (a reception photo's body may be [reception] photo_max_mb and its wrapping), where
    and how long browser sessions are kept, the sign-in route."""
    from shopfloor.kiosk.common import sign_in

    web_security.install(app, web, photo_max_mb)
    session_storage.keep_tidy(session_storage.use_data_dir(data_dir))
    sign_in.register(app)


def run_options(data_dir: Path, settings: Settings, *, https: bool, host: str = "") -> dict[str, Any]:
    """ui.run's keyword arguments for TLS, the session cookie and uvicorn's proxy handling. Makes the
    certificate (raises CertificateError when the site's CA cannot be used)."""
    https = https or settings.web.https
    options: dict[str, Any] = {**web_security.uvicorn_options(settings.web),
                               "session_middleware_kwargs": session_cookie(https)}
    if https:
        extra = [*settings.web.https_names, *([host] if host not in _WILDCARD_HOSTS else [])]
        cert = https_certificate(data_dir, settings.site.id, extra)
        options.update(ssl_certfile=str(cert.cert), ssl_keyfile=str(cert.key))
    return options
