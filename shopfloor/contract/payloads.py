"""Shapes of the JSON payloads on the bus, as pydantic models (docs/asyncapi.yaml is generated from them):
the common pieces, and what the printers' topics carry (jobs, acks, status) and every client's availability.
The entities' retained states and events are in `entity_states.py`.

Every retained state payload carries `version`: an integer that only grows for an entity, taken from the
clock (microseconds) so it stays monotonic across restarts and demo resets. Consumers keep the highest
version seen and ignore older or equal ones.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Final, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, ValidationError, WithJsonSchema

SCHEMA: Final = 1


class Payload(BaseModel):
    """A JSON object on the bus whose shape is ours: an unknown key or a value of the wrong type is an error.

    Strict: no coercion of "7" to 7 or of 1 to true, so a consumer sees exactly what the producer meant."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, serialize_by_alias=True)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object as it goes on the wire (what `encode` serialises)."""
        return self.model_dump(mode="json", by_alias=True)


def encode(payload: Payload | Mapping[str, Any]) -> bytes:
    """The one encoding of every payload: compact, sorted keys, UTF-8 (a hand-made mapping too: tests, tools)."""
    data = payload.to_dict() if isinstance(payload, Payload) else payload
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


class PayloadError(ValueError):
    """A message on the bus that does not follow the contract."""


P = TypeVar("P", bound=Payload)


def parse(model: type[P], raw: bytes) -> P | None:
    """A payload read off the bus and checked against its model; None for an empty payload (a retained
    message deleted). PayloadError says what is wrong, field by field."""
    if not raw:
        return None
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if errors[0]["type"] == "json_invalid":
            raise PayloadError(f"not JSON: {errors[0].get('ctx', {}).get('error', '')}") from None
        if errors[0]["type"] == "model_type":  # a list, a number …: no field to name
            raise PayloadError(f"not a JSON object, so not a {model.__name__}") from None
        problems = "; ".join(f"{'.'.join(str(part) for part in error['loc']) or 'payload'}: {error['msg']}"
                             for error in errors[:5])
        raise PayloadError(f"not a valid {model.__name__}: {problems}") from None


# -- value types shared by the payloads --------------------------------------------------------------------

def _iso_datetime(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise ValueError("an ISO 8601 date-time needs its UTC offset")
    return value


def _iso_date(value: str) -> str:
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError("not an ISO 8601 date (YYYY-MM-DD)") from None
    return value


# Times stay the text the server wrote (its site's offset, whole seconds): a datetime would be re-rendered.
DateTime = Annotated[str, AfterValidator(_iso_datetime), WithJsonSchema({"type": "string", "format": "date-time"})]
Day = Annotated[str, AfterValidator(_iso_date), WithJsonSchema({"type": "string", "format": "date"})]
Version = Annotated[int, Field(ge=0)]
# the payload format; "schema" would shadow a BaseModel attribute, so models name the field schema_
Schema = Literal[1]
E = TypeVar("E", bound=StrEnum)
# an enumeration read from JSON or from a database column is given as its value
EnumValue = Annotated[E, Strict(False)]


# -- print jobs: printers/<printer>/jobs/<id> ----------------------------------------------------------------

class PrintKind(StrEnum):
    """What a print job is: a job ticket, a booking confirmation slip, a parts pick label, a vehicle's tag label, a
    repair order's estimate slip, its settlement list (结算清单), its delivery sheet (交车单), and a test print."""

    TICKET = "ticket"
    CONFIRMATION = "confirmation"
    PICK_LABEL = "pick_label"
    TAG_LABEL = "tag_label"
    ESTIMATE = "estimate"
    SETTLEMENT_LIST = "settlement_list"
    DELIVERY_SHEET = "delivery_sheet"
    TEST = "test"  # /setup's test print: a short GB18030 ticket through the whole print path


def _base64(value: str) -> str:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not valid base64") from None
    return value


Base64 = Annotated[str, AfterValidator(_base64),
                   WithJsonSchema({"type": "string", "contentEncoding": "base64",
                                   "description": "the ESC/POS bytes, GB18030/GBK text"})]


class PrintJob(Payload):
    """A pending print job, retained on printers/<printer>/jobs/<id> until the agent acknowledges it."""

    schema_: Schema = Field(alias="schema")
    version: Version
    job_id: int
    printer: str
    ro_number: str | None
    kind: EnumValue[PrintKind]
    reprint: bool
    created_at: DateTime
    data: Base64

    def content(self) -> bytes:
        return base64.b64decode(self.data, validate=True)


def print_job(*, job_id: int, printer: str, version: int, ro_number: str | None, kind: str, reprint: bool,
              created_at: str, data: bytes) -> PrintJob:
    return PrintJob(schema=SCHEMA, job_id=job_id, printer=printer, version=version, ro_number=ro_number,
                    kind=PrintKind(kind), reprint=reprint, created_at=created_at,
                    data=base64.b64encode(data).decode("ascii"))


# -- acknowledgements: printers/<printer>/acks ---------------------------------------------------------------

class AckResult(StrEnum):
    """printed: the job went out and the printer answered a status query after it; uncertain: the transfer
    broke or the printer fell silent, so nobody knows whether paper came out (a person decides on the kiosk:
    reprint marked REPRINT, or confirm); failed: nothing was sent, the agent rejected the job's payload."""

    PRINTED = "printed"
    UNCERTAIN = "uncertain"
    FAILED = "failed"


ACK_PRINTED: Final = AckResult.PRINTED
ACK_UNCERTAIN: Final = AckResult.UNCERTAIN
ACK_FAILED: Final = AckResult.FAILED


class PrintAck(Payload):
    """The agent's outcome for one job. A printer that cannot take a job (offline, paper out) gets no ack: the
    job stays retained and the printer's status says why; the agent prints it once the printer is back."""

    schema_: Schema = Field(alias="schema")
    job_id: int
    result: EnumValue[AckResult]
    detail: str
    at: DateTime


def print_ack(*, job_id: int, result: str, detail: str = "", at: str) -> PrintAck:
    return PrintAck(schema=SCHEMA, job_id=job_id, result=AckResult(result), detail=detail, at=at)


# -- printers/<printer>/status, retained, also the agent's last will ("offline") -----------------------------

class PrinterCondition(StrEnum):
    """online: ready; offline: the agent or the printer cannot be reached; paper_out; error: cover open,
    cutter jam, a transfer that broke (detail says which)."""

    ONLINE = "online"
    OFFLINE = "offline"
    PAPER_OUT = "paper_out"
    ERROR = "error"


PRINTER_ONLINE: Final = PrinterCondition.ONLINE
PRINTER_OFFLINE: Final = PrinterCondition.OFFLINE
PRINTER_PAPER_OUT: Final = PrinterCondition.PAPER_OUT
PRINTER_ERROR: Final = PrinterCondition.ERROR
# The printer status topic is also its agent's availability (docs/asyncapi.yaml): "offline" with one of these
# details says the agent itself is gone (stopped, or its last will); any other status comes from a running agent.
AGENT_STOPPED: Final = "agent stopped"
AGENT_CONNECTION_LOST: Final = "agent connection lost"
AGENT_GONE: Final = frozenset({AGENT_STOPPED, AGENT_CONNECTION_LOST})


class PrinterStatus(Payload):
    """A printer's status as its agent last saw it. "Last message wins" like availability: the will was
    composed before the agent's later messages, so its version is not compared."""

    schema_: Schema = Field(alias="schema")
    printer: str
    status: EnumValue[PrinterCondition]
    detail: str
    version: Version


def printer_status(*, printer: str, status: str, detail: str, version: int) -> PrinterStatus:
    return PrinterStatus(schema=SCHEMA, printer=printer, status=PrinterCondition(status), detail=detail,
                         version=version)


# -- clients/<role>/<client>: availability, retained, set by the client's last will -------------------------

class ClientState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class Availability(Payload):
    """Whether an MQTT client is connected: "online" when it connects, "offline" when it says goodbye or its
    last will fires. Written by that one client only, so the last message wins."""

    state: EnumValue[ClientState]
    at: float = Field(description="Unix time the message was composed (the will's: when the client connected)")


def availability(state: str, at: float) -> Availability:
    return Availability(state=ClientState(state), at=at)
