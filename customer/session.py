"""What a customer's browser keeps between visits (NiceGUI's per-browser storage, server side): that it proved the
plate for a token — by the token's digest, never the token — and the language it chose."""

from __future__ import annotations

import time

from fastapi import Request
from nicegui import app

from shopfloor.i18n import LANGUAGES, normalize
from shopfloor.services.reception.customer_page import token_key

PROOFS = "customer_proofs"
LANG = "customer_lang"
PROOF_HOURS = 24  # a phone left on the lounge table forgets the proof by tomorrow
MAX_PROOFS = 20


def proved(token: str) -> bool:
    proofs = app.storage.user.get(PROOFS)
    until = proofs.get(token_key(token)) if isinstance(proofs, dict) else None
    return isinstance(until, (int, float)) and until > time.time()


def remember_proof(token: str) -> None:
    proofs = app.storage.user.get(PROOFS)
    now = time.time()
    kept = {k: v for k, v in proofs.items() if isinstance(v, (int, float)) and v > now} \
        if isinstance(proofs, dict) else {}
    kept[token_key(token)] = now + PROOF_HOURS * 3600
    app.storage.user[PROOFS] = dict(sorted(kept.items(), key=lambda kv: kv[1])[-MAX_PROOFS:])


def browser_language(header: str | None) -> str:
    """The first language of Accept-Language (by q) that the site speaks; Chinese when none is."""
    ranked: list[tuple[float, int, str]] = []
    for n, part in enumerate((header or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and q > 0:
            ranked.append((-q, n, tag.strip().lower()))
    for _q, _n, tag in sorted(ranked):
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return LANGUAGES[0]


def language(request: Request, asked: str | None) -> str:
    """?lang= (kept for this browser), else what this browser chose before, else its Accept-Language."""
    if asked:
        app.storage.user[LANG] = normalize(asked)
    chosen = app.storage.user.get(LANG)
    return normalize(chosen) if isinstance(chosen, str) else browser_language(request.headers.get("accept-language"))


def client_address(request: Request | None) -> str:
    """Wrong plate tails are counted per client address too (behind a trusted proxy: the forwarded one)."""
    return request.client.host if request is not None and request.client is not None else "unknown"
