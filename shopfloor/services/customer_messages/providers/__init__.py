"""The channels' providers: each hands one message to its gateway and says what came of it. Built from the site's
[messages] settings and the secrets in credentials.toml; a channel not configured has no provider (its messages go
to the advisor by hand)."""

from __future__ import annotations

from shopfloor.credentials import MessageSecrets
from shopfloor.domain.aftersales import Channel
from shopfloor.services.customer_messages.providers.base import Outgoing, Provider, Result
from shopfloor.services.customer_messages.providers.email import SmtpProvider
from shopfloor.services.customer_messages.providers.sms import AliyunSmsProvider
from shopfloor.services.customer_messages.providers.wechat import WechatTemplateProvider
from shopfloor.settings import MessagesSettings

__all__ = ["Outgoing", "Provider", "Result", "build_providers"]


def build_providers(settings: MessagesSettings, secrets: MessageSecrets, site: str) -> dict[str, Provider]:
    providers: dict[str, Provider] = {}
    if settings.sms is not None:
        providers[Channel.SMS] = AliyunSmsProvider(settings.sms, secrets.sms_key_id, secrets.sms_key_secret)
    if settings.wechat is not None:
        providers[Channel.WECHAT] = WechatTemplateProvider(settings.wechat, secrets.wechat_appid,
                                                           secrets.wechat_secret)
    if settings.email is not None:
        providers[Channel.EMAIL] = SmtpProvider(settings.email, secrets.email_user, secrets.email_password, site)
    return providers
