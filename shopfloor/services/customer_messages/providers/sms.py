"""Alibaba Cloud SMS (dysmsapi SendSms, RPC style, signature version 1.0).

The request's parameters are signed as Alibaba's POP signature documents: the parameters but Signature sorted
by name, each name and value percent-encoded (RFC 3986: only A-Z a-z 0-9 - _ . ~ kept), joined by & into the
canonical query; StringToSign = METHOD & percentEncode("/") & percentEncode(canonical query); Signature =
Base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign))."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
import urllib.request
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

from shopfloor.services.customer_messages.providers.base import Outgoing, Result, Unanswered, Verdict, http_json
from shopfloor.settings import SmsSettings

# codes after which the same message may go through later: the gateway's flow control and its own faults
BUSY_CODES = frozenset({
    "isv.BUSINESS_LIMIT_CONTROL", "Throttling.User", "Throttling", "ServiceUnavailable", "InternalError",
    "isp.SYSTEM_ERROR", "SignatureNonceUsed",
})


def percent_encode(value: str) -> str:
    return urllib.parse.quote(value, safe="~")


def canonical_query(params: Mapping[str, str]) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"


def signature(secret: str, method: str, params: Mapping[str, str]) -> str:
    digest = hmac.new(f"{secret}&".encode(), string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunSmsProvider:
    def __init__(self, settings: SmsSettings, key_id: str, key_secret: str) -> None:
        self.settings = settings
        self._key_id = key_id
        self._key_secret = key_secret

    def __repr__(self) -> str:  # never the secret
        return f"AliyunSmsProvider({self.settings.url!r})"

    def template_code(self, template: str) -> str | None:
        return self.settings.template_codes.get(template)

    def params(self, message: Outgoing, *, now: datetime | None = None, nonce: str | None = None) -> dict[str, str]:
        """The signed request's parameters (Signature included)."""
        code = self.template_code(message.template) or ""
        params = {
            "AccessKeyId": self._key_id, "Action": "SendSms", "Format": "JSON", "Version": "2017-05-25",
            "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": nonce or uuid.uuid4().hex,
            "Timestamp": f"{(now or datetime.now(UTC)).astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}",
            "PhoneNumbers": message.recipient, "SignName": self.settings.sign_name, "TemplateCode": code,
            # the approved template's variables are strings; the id comes back on delivery receipts
            "TemplateParam": json.dumps({k: str(v) for k, v in message.params.items()}, ensure_ascii=False),
            "OutId": str(message.id),
        }
        params["Signature"] = signature(self._key_secret, "POST", params)
        return params

    def send(self, message: Outgoing, timeout: float) -> Result:
        if not self.template_code(message.template):
            return Result(Verdict.REFUSED, reason=f"no SMS template code for {message.template} ([messages.sms])")
        body = urllib.parse.urlencode(self.params(message), quote_via=urllib.parse.quote).encode()
        request = urllib.request.Request(self.settings.url, data=body, method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Accept": "application/json"})
        try:
            status, answer = http_json(request, timeout)
        except Unanswered as exc:
            return exc.result
        code, text = str(answer.get("Code", "")), str(answer.get("Message", ""))
        if code == "OK":
            return Result(Verdict.SENT, provider_id=str(answer.get("BizId") or ""))
        reason = f"{code or f'HTTP {status}'}: {text}"[:300]
        return Result(Verdict.RETRY if code in BUSY_CODES else Verdict.REFUSED, reason=reason)
