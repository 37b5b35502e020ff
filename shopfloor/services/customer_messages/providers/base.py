"""What a provider is given and what it answers, and the one HTTP call the HTTP providers share.

The line that matters is whether the request may have reached the provider: a connection refused, a name that
does not resolve or an answer of 5xx/429 means it did not take the message (try again later); a timeout while
waiting for the answer means it may have it, and sending again could reach the customer twice (uncertain: a
person decides)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Verdict(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # not taken: try again later
    REFUSED = "refused"  # the provider will not send it: a bad number, a template not approved
    UNCERTAIN = "uncertain"  # it may have it


@dataclass(frozen=True)
class Result:
    verdict: Verdict
    provider_id: str | None = None
    reason: str = ""  # the provider's code and message, or what went wrong on the way


@dataclass(frozen=True)
class Outgoing:
    """One message as the provider sees it."""

    id: int
    site: str
    template: str
    language: str
    recipient: str
    subject: str
    body: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def link(self) -> str:
        return str(self.params.get("link") or "")


class Provider(Protocol):
    def send(self, message: Outgoing, timeout: float) -> Result: ...


class Unanswered(Exception):
    """The HTTP exchange ended without a usable answer; `result` says whether the provider may have the message."""

    def __init__(self, result: Result) -> None:
        super().__init__(result.reason)
        self.result = result


RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def http_json(request: urllib.request.Request, timeout: float) -> tuple[int, dict[str, Any]]:
    """(status, decoded JSON object) of one request. Raises Unanswered when there is no JSON answer to judge."""
    try:
        # urllib wraps a failure to connect or to send in URLError; a timeout or reset while waiting for the
        # answer comes out unwrapped, after the request went out
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
        if status in RETRY_STATUSES:
            raise Unanswered(Result(Verdict.RETRY, reason=f"HTTP {status}")) from None
    except urllib.error.URLError as exc:
        raise Unanswered(Result(Verdict.RETRY, reason=f"not reached: {exc.reason}")) from None
    except (TimeoutError, OSError) as exc:
        raise Unanswered(Result(Verdict.UNCERTAIN, reason=f"no answer after sending: {exc or type(exc).__name__}")
                         ) from None
    try:
        data = json.loads(raw or b"null")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        # a 2xx without JSON: the gateway took the request, what it did with it is unknown
        verdict = Verdict.UNCERTAIN if status < 300 else Verdict.RETRY if status >= 500 else Verdict.REFUSED
        raise Unanswered(Result(verdict, reason=f"HTTP {status}: not a JSON answer"))
    return status, data
