"""WeChat official-account template messages: an access token from /cgi-bin/token (kept until five minutes
before it expires), then /cgi-bin/message/template/send with the customer's openid and the template's fields."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from typing import Any

from shopfloor.services.customer_messages.providers.base import Outgoing, Result, Unanswered, Verdict, http_json
from shopfloor.settings import WechatSettings

TOKEN_EXPIRED = frozenset({40001, 40014, 42001})  # invalid, malformed or expired access token: fetch a new one
BUSY = frozenset({-1, 45009, 45047})  # system busy, API call limit, too many messages: later
TOKEN_MARGIN_SECONDS = 300


class WechatTemplateProvider:
    def __init__(self, settings: WechatSettings, appid: str, secret: str) -> None:
        self.settings = settings
        self._appid = appid
        self._secret = secret
        self._token: str | None = None
        self._token_until = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"WechatTemplateProvider({self.settings.url!r})"

    def _base(self) -> str:
        return self.settings.url.rstrip("/")

    def _access_token(self, timeout: float, *, fresh: bool = False) -> str:
        with self._lock:
            if self._token and not fresh and time.monotonic() < self._token_until:
                return self._token
            query = urllib.parse.urlencode({"grant_type": "client_credential", "appid": self._appid,
                                            "secret": self._secret})
            _, answer = http_json(urllib.request.Request(f"{self._base()}/cgi-bin/token?{query}"), timeout)
            token = answer.get("access_token")
            if not isinstance(token, str) or not token:
                code = answer.get("errcode")
                verdict = Verdict.RETRY if code in BUSY else Verdict.REFUSED
                # the token call did not carry the message: nothing sent either way
                raise Unanswered(Result(verdict, reason=f"token {code}: {answer.get('errmsg', '')}"[:300]))
            self._token = token
            expires = float(answer.get("expires_in") or 7200)
            self._token_until = time.monotonic() + max(expires - TOKEN_MARGIN_SECONDS, 0)
            return token

    def payload(self, message: Outgoing, template_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "touser": message.recipient, "template_id": template_id,
            "data": {k: {"value": str(v)} for k, v in message.params.items() if k != "link"}}
        if message.link:
            body["url"] = message.link
        return body

    def send(self, message: Outgoing, timeout: float) -> Result:
        template_id = self.settings.template_ids.get(message.template)
        if not template_id:
            return Result(Verdict.REFUSED, reason=f"no WeChat template id for {message.template} ([messages.wechat])")
        data = json.dumps(self.payload(message, template_id), ensure_ascii=False).encode()
        try:
            for fresh in (False, True):
                token = self._access_token(timeout, fresh=fresh)
                request = urllib.request.Request(
                    f"{self._base()}/cgi-bin/message/template/send?access_token={urllib.parse.quote(token)}",
                    data=data, method="POST", headers={"Content-Type": "application/json; charset=utf-8"})
                _, answer = http_json(request, timeout)
                code = answer.get("errcode", 0)
                if code in TOKEN_EXPIRED and not fresh:
                    continue  # refused before sending: once more with a new token
                break
        except Unanswered as exc:
            return exc.result
        if code == 0:
            return Result(Verdict.SENT, provider_id=str(answer.get("msgid") or ""))
        reason = f"{code}: {answer.get('errmsg', '')}"[:300]
        return Result(Verdict.RETRY if code in BUSY else Verdict.REFUSED, reason=reason)
