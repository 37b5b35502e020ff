"""The site's own access tables (rev 0013): the integrations that call the API and the wall screens that show the
boards, each with a token of its own that /setup issues and revokes. Only a token's SHA-256 is kept: the token is
shown once, when it is made, as a PIN is."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shopfloor.domain.models import Base, UtcDateTime


class ApiClient(Base):
    """An integration (the DMS, a call centre, a parts supplier …) that calls the JSON API: its name is the actor
    of every change it makes, its roles what it may do (shopfloor/contract/staff.py)."""

    __tablename__ = "api_clients"
    __table_args__ = (UniqueConstraint("site_id", "name"), Index("ux_api_clients_token", "token_sha256", unique=True))
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    name: Mapped[str] = mapped_column(String(80))
    roles: Mapped[str] = mapped_column(String(120))  # as Advisor.roles: "cs,parts"
    token_sha256: Mapped[str] = mapped_column(String(64))
    token_hint: Mapped[str] = mapped_column(String(8))  # the token's first characters, to tell tokens apart
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(80))
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DisplayScreen(Base):
    """A wall or lounge screen paired with the boards by a display token of its own (one per screen)."""

    __tablename__ = "display_screens"
    __table_args__ = (UniqueConstraint("site_id", "name"),
                      Index("ux_display_screens_token", "token_sha256", unique=True))
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    name: Mapped[str] = mapped_column(String(80))  # "workshop wall", "reception left"
    token_sha256: Mapped[str] = mapped_column(String(64))
    token_hint: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(80))
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_address: Mapped[str | None] = mapped_column(String(64))
