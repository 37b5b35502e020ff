"""The message sender alone in a process of its own, for the tests that kill it with SIGKILL while a send hangs:
`python -m shopfloor.testing.sender_process DATABASE_URL SMS_URL [TIMEOUT]`. It runs as the server does (recover()
at start, then send_due() every half second) with SMS pointed at the fake gateway and no quiet hours."""

from __future__ import annotations

import logging
import sys
import time as time_mod
from datetime import time

from shopfloor import settings as settings_mod
from shopfloor.clock import Clock
from shopfloor.credentials import MessageSecrets
from shopfloor.db import Database
from shopfloor.services.context import ServiceContext
from shopfloor.services.customer_messages.providers import build_providers
from shopfloor.services.customer_messages.sender import MessageSender
from shopfloor.settings import Settings, SmsSettings

TEMPLATE_CODES = {"ready": "SMS_100001", "checked_in": "SMS_100002", "next_service": "SMS_100003",
                  "appointment_confirmed": "SMS_100004", "appointment_reminder": "SMS_100005"}


def fake_settings(sms_url: str, timeout: float = 2.0, base: Settings | None = None) -> Settings:
    settings = base or settings_mod.load(settings_mod.demo_config_path())
    messages = settings.messages.model_copy(update={
        "sms": SmsSettings(url=sms_url, sign_name="测试4S店", template_codes=TEMPLATE_CODES),
        "quiet_from": time(0, 0), "quiet_until": time(0, 0), "timeout_seconds": timeout, "retry_seconds": 1})
    return settings.model_copy(update={"messages": messages})


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    url, sms_url = argv[0], argv[1]
    timeout = float(argv[2]) if len(argv) > 2 else 2.0
    settings = fake_settings(sms_url, timeout)
    ctx = ServiceContext(Database(url), settings, Clock())
    secrets = MessageSecrets(sms_key_id="testid", sms_key_secret="testsecret")
    sender = MessageSender(ctx, build_providers(settings.messages, secrets, settings.site.id))
    sender.recover()
    print("sender ready", flush=True)
    while True:
        sender.send_due()
        time_mod.sleep(0.5)


if __name__ == "__main__":
    main(sys.argv[1:])
