"""API clients and wall screens: one token per integration (with the staff roles it may act as) and one display
token per screen, each named, shown once and revocable from /setup.

Only the token's SHA-256 is stored (and its first characters, to tell tokens apart on screen): a copy of the
database does not let anyone call the API or pair a screen. A presented token is found by its digest, one indexed
query. Revoking takes effect on the next request. The moment a token was last used is written at most once a
minute per token, not on every request."""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor.contract.staff import StaffRole, format_roles, parse_roles
from shopfloor.credentials import ApiToken
from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.site_models import ApiClient, DisplayScreen
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext

HINT_CHARS = 6
MAX_NAME = 80
TOUCH_EVERY = timedelta(minutes=1)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """What the database keeps of a token (hex SHA-256): a lookup key that does not give the token back."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class ApiClientView:
    id: int
    name: str
    roles: frozenset[StaffRole]
    token_hint: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    revoked_by: str | None
    last_used_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class ScreenView:
    id: int
    name: str
    token_hint: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    last_seen_at: datetime | None
    last_address: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _client_view(c: ApiClient) -> ApiClientView:
    return ApiClientView(id=c.id, name=c.name, roles=parse_roles(c.roles), token_hint=c.token_hint,
                         created_at=c.created_at, created_by=c.created_by, revoked_at=c.revoked_at,
                         revoked_by=c.revoked_by, last_used_at=c.last_used_at)


def _screen_view(s: DisplayScreen) -> ScreenView:
    return ScreenView(id=s.id, name=s.name, token_hint=s.token_hint, created_at=s.created_at,
                      created_by=s.created_by, revoked_at=s.revoked_at, last_seen_at=s.last_seen_at,
                      last_address=s.last_address)


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise Invalid("setup_access.error.name_empty")
    if len(cleaned) > MAX_NAME:
        raise Invalid("setup_access.error.name_long", max=MAX_NAME)
    return cleaned


class _Throttle:
    """Remembers when each token's use was last written, so a busy integration costs one write a minute."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._written: dict[int, datetime] = {}

    def due(self, key: int, now: datetime) -> bool:
        with self._lock:
            last = self._written.get(key)
            if last is not None and now - last < TOUCH_EVERY:
                return False
            self._written[key] = now
            return True


class TokenAdmin:
    def __init__(self, ctx: ServiceContext, *, reserved_names: Iterable[str] = ()) -> None:
        self.ctx = ctx
        # the callers named in credentials.toml: an API client of the same name would be two actors in one
        self.reserved_names = frozenset(reserved_names)
        self._used = _Throttle()
        self._seen = _Throttle()

    # -- API clients --------------------------------------------------------------------------------------
    def create_client(self, name: str, roles: Iterable[StaffRole | str] | str, actor: Actor
                      ) -> tuple[ApiClientView, str]:
        """A new integration and its token: the token is returned here once and never again."""
        name = _clean_name(name)
        try:
            parsed = parse_roles(roles if isinstance(roles, str) else [str(r) for r in roles])
        except ValueError as e:
            raise Invalid("setup_access.error.roles", detail=str(e)) from None
        if not parsed:
            raise Invalid("setup_access.error.no_roles")
        if name in self.reserved_names:
            raise Refused("setup_access.error.name_taken", name=name)
        token = new_token()
        with self.ctx.db.write() as s:
            if s.scalar(select(ApiClient.id).where(ApiClient.site_id == self.ctx.site, ApiClient.name == name)):
                raise Refused("setup_access.error.name_taken", name=name)
            client = ApiClient(site_id=self.ctx.site, name=name, roles=format_roles(parsed),
                               token_sha256=digest(token), token_hint=token[:HINT_CHARS], created_at=self.ctx.now(),
                               created_by=actor.name[:80])
            s.add(client)
            s.flush()
            record(s, self.ctx, actor, Entity.API_CLIENT, client.id, "api_client_created", to_value=name,
                   detail={"roles": client.roles, "hint": client.token_hint})
            return _client_view(client), token

    def revoke_client(self, client_id: int, actor: Actor) -> ApiClientView:
        with self.ctx.db.write() as s:
            client = self._client(s, client_id)
            if client.revoked_at is None:
                client.revoked_at = self.ctx.now()
                client.revoked_by = actor.name[:80]
                record(s, self.ctx, actor, Entity.API_CLIENT, client.id, "api_client_revoked", from_value=client.name)
            return _client_view(client)

    def clients(self) -> list[ApiClientView]:
        """Active ones first, then by name."""
        with self.ctx.db.read() as s:
            rows = s.scalars(select(ApiClient).where(ApiClient.site_id == self.ctx.site)).all()
            return sorted((_client_view(c) for c in rows), key=lambda v: (not v.active, v.name))

    def caller(self, token: str) -> ApiToken | None:
        """The active client holding `token`, as the API's caller (its name, its roles); None if none does."""
        if not token:
            return None
        with self.ctx.db.read() as s:
            row = s.execute(select(ApiClient.id, ApiClient.name, ApiClient.roles).where(
                ApiClient.token_sha256 == digest(token), ApiClient.site_id == self.ctx.site,
                ApiClient.revoked_at.is_(None))).first()
        if row is None:
            return None
        now = self.ctx.now()
        if self._used.due(row.id, now):
            with self.ctx.db.write() as s:
                client = s.get(ApiClient, row.id)
                if client is not None:
                    client.last_used_at = now
        return ApiToken(row.name, token, parse_roles(row.roles))

    def _client(self, s: Session, client_id: int) -> ApiClient:
        client = s.get(ApiClient, client_id)
        if client is None or client.site_id != self.ctx.site:
            raise NotFound("setup_access.error.no_client", id=client_id)
        return client

    # -- wall screens -------------------------------------------------------------------------------------
    def create_screen(self, name: str, actor: Actor) -> tuple[ScreenView, str]:
        """A new wall screen and its display token (returned here once): it pairs with /board/…?token=…"""
        name = _clean_name(name)
        token = new_token()
        with self.ctx.db.write() as s:
            if s.scalar(select(DisplayScreen.id).where(DisplayScreen.site_id == self.ctx.site,
                                                       DisplayScreen.name == name)):
                raise Refused("setup_access.error.screen_taken", name=name)
            screen = DisplayScreen(site_id=self.ctx.site, name=name, token_sha256=digest(token),
                                   token_hint=token[:HINT_CHARS], created_at=self.ctx.now(),
                                   created_by=actor.name[:80])
            s.add(screen)
            s.flush()
            record(s, self.ctx, actor, Entity.DISPLAY_SCREEN, screen.id, "screen_created", to_value=name,
                   detail={"hint": screen.token_hint})
            return _screen_view(screen), token

    def revoke_screen(self, screen_id: int, actor: Actor) -> ScreenView:
        with self.ctx.db.write() as s:
            screen = s.get(DisplayScreen, screen_id)
            if screen is None or screen.site_id != self.ctx.site:
                raise NotFound("setup_access.error.no_screen", id=screen_id)
            if screen.revoked_at is None:
                screen.revoked_at = self.ctx.now()
                screen.revoked_by = actor.name[:80]
                record(s, self.ctx, actor, Entity.DISPLAY_SCREEN, screen.id, "screen_revoked", from_value=screen.name)
            return _screen_view(screen)

    def screens(self) -> list[ScreenView]:
        with self.ctx.db.read() as s:
            rows = s.scalars(select(DisplayScreen).where(DisplayScreen.site_id == self.ctx.site)).all()
            return sorted((_screen_view(x) for x in rows), key=lambda v: (not v.active, v.name))

    def screen(self, token: str) -> ScreenView | None:
        """The active screen holding this display token."""
        return self.screen_by_digest(digest(token)) if token else None

    def screen_by_digest(self, token_sha256: str) -> ScreenView | None:
        """The active screen whose token has this digest: what a paired browser remembers (not the token)."""
        with self.ctx.db.read() as s:
            row = s.scalar(select(DisplayScreen).where(
                DisplayScreen.token_sha256 == token_sha256, DisplayScreen.site_id == self.ctx.site,
                DisplayScreen.revoked_at.is_(None)))
            return _screen_view(row) if row is not None else None

    def seen(self, screen_id: int, address: str) -> None:
        """The screen loaded or checked its pairing from `address` (written at most once a minute per screen)."""
        now = self.ctx.now()
        if not self._seen.due(screen_id, now):
            return
        with self.ctx.db.write() as s:
            screen = s.get(DisplayScreen, screen_id)
            if screen is not None and screen.site_id == self.ctx.site:
                screen.last_seen_at = now
                screen.last_address = address[:64]
