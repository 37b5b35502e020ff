"""What the estimate and the handover record share: a document the customer signs is stored in versions, each
exactly as the customer saw it (`content`) with the SHA-256 of its canonical JSON; a signature binds that digest,
the PNG of the signature, the signer's name and the moment. A signed row is never written again — a change after
signing is a new version that needs its own signature."""

from __future__ import annotations

import hashlib
import io
import json
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, event, select
from sqlalchemy.orm import Session

from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.models import RepairOrder
from shopfloor.domain.reception_models import SignedDocument
from shopfloor.domain.text import has_control_characters
from shopfloor.services import views
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_SIGNATURE_BYTES = 1024 * 1024
MAX_SIGNATURE_PX = 4096  # a side; a pad is at most a tablet's screen
MIN_INK_PIXELS = 20  # fewer dark pixels than this is a tap, not a signature
MAX_SIGNER = 80


def canonical(content: dict[str, Any]) -> bytes:
    """The bytes the content digest is taken over: the same content gives the same bytes on every database."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def content_digest(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(content)).hexdigest()


def substance(content: dict[str, Any]) -> str:
    """The digest of what the document says, leaving out how it compares to the last signed version."""
    return content_digest({k: v for k, v in content.items() if k != "changes"})


def signed_moment(now: datetime) -> datetime:
    """Whole seconds in UTC: the moment hashed is the one every database gives back."""
    return now.astimezone(UTC).replace(microsecond=0)


def signature_digest(digest_of_content: str, png: bytes, signer: str, signed_at: datetime) -> str:
    """SHA-256 over the content's digest (64 hex characters), the PNG's bytes, the signer's name (UTF-8) and the
    moment as ISO 8601 in UTC (2026-11-23T02:30:00+00:00), in that order, nothing between them."""
    h = hashlib.sha256()
    h.update(digest_of_content.encode("ascii"))
    h.update(png)
    h.update(signer.encode("utf-8"))
    h.update(signed_moment(signed_at).isoformat().encode("ascii"))
    return h.hexdigest()


def checked_signer(signer: str) -> str:
    name = " ".join(signer.split())
    if not name or len(name) > MAX_SIGNER or has_control_characters(name):
        raise Invalid("estimate.error.signer_invalid", most=MAX_SIGNER)
    return name


def checked_png(data: bytes) -> bytes:
    """The signature pad's PNG as given, once it is a PNG Pillow decodes, at most 1 MB, with ink on it."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_SIGNATURE_BYTES:
        raise Invalid("estimate.error.signature_too_large", most_kb=MAX_SIGNATURE_BYTES // 1024)
    if not data.startswith(PNG_MAGIC):
        raise Invalid("estimate.error.signature_not_png")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                probe.verify()
            image = Image.open(io.BytesIO(data))
            if max(image.size) > MAX_SIGNATURE_PX:
                raise Invalid("estimate.error.signature_not_png")
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        raise Invalid("estimate.error.signature_not_png") from None
    # ink: a pixel clearly darker than the paper once transparency is laid on white
    paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
    grey = Image.alpha_composite(paper, image.convert("RGBA")).convert("L")
    dark = sum(grey.point(lambda v: 255 if v < 160 else 0).histogram()[255:])
    # a tap is no signature, and neither is a pad filled with ink (one colour: nothing drawn on it)
    if dark < MIN_INK_PIXELS or dark > grey.width * grey.height * 0.98:
        raise Invalid("estimate.error.signature_blank")
    return data


@dataclass(frozen=True)
class SignatureResult:
    signed_at: datetime
    digest: str


@dataclass(frozen=True)
class VersionInfo:
    """One version in the history: who made it, who signed it and when (None: not signed)."""

    version: int
    created_at: datetime
    created_by: str
    signed_at: datetime | None
    signer: str | None
    digest: str | None
    witnessed_by: str | None
    total: Decimal | None  # the estimate's; None for a handover record
    customer_total: Decimal | None
    changes: list[str]
    content_digest: str = ""
    # unsigned and a later version exists: a draft nobody signs any more (histories hide it)
    superseded: bool = False
    consent: str | None = None  # "signature" | "decision" (approved additional work only) | None
    consented_by: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StoredDocument:
    """A version as stored: the content the customer saw and the signature's PNG."""

    kind: str
    version: int
    content: dict[str, Any]
    content_digest: str
    signed_at: datetime | None
    signer: str | None
    signature_png: bytes | None
    digest: str | None
    witnessed_by: str | None
    created_at: datetime
    created_by: str


def _amount(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def version_info(doc: SignedDocument, latest_version: int | None = None, *, changes: list[str] | None = None,
                 consent: str | None = None, consented_by: list[str] | None = None) -> VersionInfo:
    """`latest_version`: the newest version's number, to tell a superseded draft; `changes`: what differs in the
    reader's language (else as stored, in the site's)."""
    c = doc.content
    signed = doc.signed_at is not None
    return VersionInfo(doc.version, doc.created_at, doc.created_by, doc.signed_at, doc.signer, doc.digest,
                       doc.witnessed_by, _amount(c.get("total")), _amount(c.get("customer_total")),
                       list(c.get("changes") or []) if changes is None else changes, doc.content_digest,
                       superseded=not signed and latest_version is not None and doc.version < latest_version,
                       consent="signature" if signed else consent, consented_by=list(consented_by or []))


def stored(doc: SignedDocument) -> StoredDocument:
    return StoredDocument(doc.kind, doc.version, dict(doc.content), doc.content_digest, doc.signed_at, doc.signer,
                          doc.signature_png, doc.digest, doc.witnessed_by, doc.created_at, doc.created_by)


def header(ro: RepairOrder, ctx: ServiceContext) -> dict[str, Any]:
    """Whose car and which order, as every signed document starts."""
    customer = ro.vehicle.customer
    return {"number": ro.number, "plate": ro.vehicle.plate, "model": ro.vehicle.model, "vin": ro.vehicle.vin,
            "customer": f"{customer.surname}{customer.given_name}", "salutation": customer.salutation,
            "promised_at": views.iso(ro.promised_at, ctx.tz)}


def latest(s: Session, ro: RepairOrder, kind: str) -> SignedDocument | None:
    return s.scalar(select(SignedDocument).where(SignedDocument.repair_order_id == ro.id,
                                                 SignedDocument.kind == kind)
                    .order_by(SignedDocument.version.desc()).limit(1))


def last_signed(s: Session, ro: RepairOrder, kind: str) -> SignedDocument | None:
    return s.scalar(select(SignedDocument).where(SignedDocument.repair_order_id == ro.id,
                                                 SignedDocument.kind == kind, SignedDocument.signed_at.is_not(None))
                    .order_by(SignedDocument.version.desc()).limit(1))


def signed_before(s: Session, ro: RepairOrder, kind: str, version: int) -> SignedDocument | None:
    """The last version signed before `version`: what `version`'s changes are counted from."""
    return s.scalar(select(SignedDocument).where(SignedDocument.repair_order_id == ro.id,
                                                 SignedDocument.kind == kind, SignedDocument.signed_at.is_not(None),
                                                 SignedDocument.version < version)
                    .order_by(SignedDocument.version.desc()).limit(1))


def all_versions(s: Session, ro: RepairOrder, kind: str) -> list[SignedDocument]:
    return list(s.scalars(select(SignedDocument).where(SignedDocument.repair_order_id == ro.id,
                                                       SignedDocument.kind == kind)
                          .order_by(SignedDocument.version)))


def version_of(s: Session, ro: RepairOrder, kind: str, version: int) -> SignedDocument | None:
    return s.scalar(select(SignedDocument).where(SignedDocument.repair_order_id == ro.id,
                                                 SignedDocument.kind == kind, SignedDocument.version == version))


def existing_version(s: Session, ro: RepairOrder, kind: str, version: int) -> SignedDocument:
    """`version` of the order's `kind` document; NotFound naming it when there is none (or the number cannot be one)."""
    doc = version_of(s, ro, kind, version) if 0 < version < 2**31 else None
    if doc is None:
        raise NotFound("estimate.error.version_unknown", number=ro.number, kind=kind, version=version)
    return doc


def store(s: Session, ctx: ServiceContext, ro: RepairOrder, kind: str, content: dict[str, Any],
          actor: Actor | str) -> SignedDocument:
    """The latest version when it holds this content, else a new version of it (audited). `changes` (what
    differs from the last signed version) is not a change itself: right after a signature the same lines compare
    to themselves, and that must not make a version of its own."""
    digest = content_digest(content)
    last = latest(s, ro, kind)
    if last is not None and substance(last.content) == substance(content):
        return last
    doc = SignedDocument(repair_order_id=ro.id, kind=kind, version=(last.version if last else 0) + 1,
                         content=content, content_digest=digest, created_at=ctx.now(), created_by=str(actor)[:80])
    s.add(doc)
    s.flush()
    record(s, ctx, actor, Entity.REPAIR_ORDER, ro.number, f"{kind}_version", to_value=doc.version,
           detail={"version": doc.version, "content_digest": digest, "changes": content.get("changes") or []})
    return doc


def sign(s: Session, ctx: ServiceContext, ro: RepairOrder, kind: str, version: int, signer: str, png: bytes,
         actor: Actor | str) -> SignatureResult:
    """The customer's signature on `version`, which must be the latest (else Refused: they would sign what is no
    longer the order) and not signed yet."""
    last = latest(s, ro, kind)
    if last is None or last.version != version:
        raise Refused("estimate.error.stale", version=version, current=last.version if last else 0)
    if last.signed_at is not None:
        raise Refused("estimate.error.already_signed", version=version)
    if content_digest(last.content) != last.content_digest:
        raise Refused("estimate.error.tampered", version=version)
    when = signed_moment(ctx.now())
    digest = signature_digest(last.content_digest, png, signer, when)
    last.signed_at, last.signer, last.signature_png, last.digest = when, signer, png, digest
    last.witnessed_by = str(actor)[:80]
    s.flush()
    record(s, ctx, actor, Entity.REPAIR_ORDER, ro.number, f"{kind}_signed", to_value=version,
           detail={"version": version, "signer": signer, "digest": digest, "content_digest": last.content_digest,
                   "signature_bytes": len(png)})
    return SignatureResult(when, digest)


def verifies(doc: SignedDocument) -> bool:
    """The stored content still has its digest, and (signed) the signature's digest binds it."""
    if content_digest(doc.content) != doc.content_digest:
        return False
    if doc.signed_at is None:
        return doc.digest is None and doc.signature_png is None
    if doc.signature_png is None or doc.signer is None or doc.digest is None:
        return False
    return signature_digest(doc.content_digest, doc.signature_png, doc.signer, doc.signed_at) == doc.digest


@event.listens_for(SignedDocument, "before_update")
def _never_after_signing(_mapper: object, connection: Connection, target: SignedDocument) -> None:
    """The last guard, below every service: an UPDATE of a row the database already holds as signed fails the flush
    (read from the database, not the session, so an expired or stale object cannot slip past)."""
    stored = connection.scalar(select(SignedDocument.signed_at).where(SignedDocument.id == target.id))
    if stored is not None:
        raise Refused("estimate.error.signed_unchangeable", version=target.version)
