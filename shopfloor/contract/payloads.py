"""Shapes of the JSON payloads on the bus (documented in docs/asyncapi.yaml).

Every retained state payload carries `version`: an integer that only grows for an entity, taken from the
clock (microseconds) so it stays monotonic across restarts and demo resets. Consumers keep the highest
version seen and ignore older or equal ones.
"""

from __future__ import annotations

import base64
import json
from typing import Any

SCHEMA = 1


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


class PayloadError(ValueError):
    """A message on the bus that does not follow the contract."""


def decode_state(raw: bytes) -> dict[str, Any] | None:
    """None for an empty payload (the entity was deleted); PayloadError for anything not a versioned object."""
    if not raw:
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise PayloadError("not a JSON object")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise PayloadError("missing integer 'version'")
    return data


def print_job(*, job_id: int, printer: str, version: int, ro_number: str | None, kind: str, reprint: bool,
              created_at: str, data: bytes) -> dict[str, Any]:
    """A pending print job, retained on printers/<printer>/jobs/<id> until the agent acknowledges it."""
    return {
        "schema": SCHEMA, "job_id": job_id, "printer": printer, "version": version, "ro_number": ro_number,
        "kind": kind, "reprint": reprint, "created_at": created_at,
        "data": base64.b64encode(data).decode("ascii"),
    }


def print_job_bytes(payload: dict[str, Any]) -> bytes:
    try:
        return base64.b64decode(payload["data"], validate=True)
    except (KeyError, ValueError, TypeError) as exc:
        raise PayloadError(f"print job without valid base64 'data': {exc}") from exc


# results an agent reports on printers/<printer>/acks
ACK_PRINTED = "printed"        # every byte went out and the printer reported no fault
ACK_UNCERTAIN = "uncertain"    # the transfer broke: nobody knows whether paper came out; a person decides
ACK_FAILED = "failed"          # nothing was sent (printer unreachable before the first byte)


def print_ack(*, job_id: int, result: str, detail: str = "", at: str) -> dict[str, Any]:
    return {"schema": SCHEMA, "job_id": job_id, "result": result, "detail": detail, "at": at}


# printers/<printer>/status, retained, also the agent's last will ("offline")
PRINTER_ONLINE = "online"
PRINTER_OFFLINE = "offline"
PRINTER_PAPER_OUT = "paper_out"
PRINTER_ERROR = "error"


def printer_status(*, printer: str, status: str, detail: str, version: int) -> dict[str, Any]:
    return {"schema": SCHEMA, "printer": printer, "status": status, "detail": detail, "version": version}
