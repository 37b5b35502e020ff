"""E-mail over SMTP (STARTTLS, TLS or plain), UTF-8, with a Message-ID of our own: a copy a person sends again
is recognisable as the same message."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from shopfloor.services.customer_messages.providers.base import Outgoing, Result, Verdict
from shopfloor.settings import EmailSettings


def message_id(message: Outgoing, sender: str) -> str:
    domain = sender.rpartition("@")[2] or "shopfloor.invalid"
    return f"<shopfloor.{message.site}.{message.id}@{domain}>"


class SmtpProvider:
    def __init__(self, settings: EmailSettings, user: str, password: str, site: str) -> None:
        self.settings = settings
        self._user = user
        self._password = password
        self.site = site

    def __repr__(self) -> str:
        return f"SmtpProvider({self.settings.host!r}, {self.settings.port})"

    def compose(self, message: Outgoing) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.settings.sender
        mail["To"] = message.recipient
        mail["Subject"] = message.subject or message.body.splitlines()[0][:60]
        mail["Message-ID"] = message_id(message, self.settings.sender)
        mail["Date"] = formatdate(localtime=False)
        mail.set_content(message.body, charset="utf-8")
        return mail

    def _connect(self, timeout: float) -> smtplib.SMTP:
        s = self.settings
        if s.security == "tls":
            return smtplib.SMTP_SSL(s.host, s.port, timeout=timeout, context=ssl.create_default_context())
        smtp = smtplib.SMTP(s.host, s.port, timeout=timeout)
        if s.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        return smtp

    def send(self, message: Outgoing, timeout: float) -> Result:
        mail = self.compose(message)
        try:
            smtp = self._connect(timeout)
        except (OSError, smtplib.SMTPException) as exc:  # refused, no such host, TLS failed: nothing handed over
            return Result(Verdict.RETRY, reason=f"SMTP not reached: {exc}"[:300])
        try:
            if self._user:
                smtp.login(self._user, self._password)
            refused = smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError as exc:
            return Result(Verdict.REFUSED, reason=f"SMTP login refused: {exc.smtp_code}")
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            verdict = Verdict.RETRY if all(400 <= c < 500 for c in codes) else Verdict.REFUSED
            return Result(verdict, reason=f"recipient refused: {exc.recipients}"[:300])
        except smtplib.SMTPResponseException as exc:  # sender or data refused: 4xx later, 5xx never
            verdict = Verdict.RETRY if 400 <= exc.smtp_code < 500 else Verdict.REFUSED
            return Result(verdict, reason=f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"[:300])
        except (smtplib.SMTPServerDisconnected, TimeoutError, OSError) as exc:
            # the data may have been accepted before the line went quiet
            return Result(Verdict.UNCERTAIN, reason=f"SMTP no answer: {exc}"[:300])
        except smtplib.SMTPException as exc:  # e.g. the server offers no login: a setup to fix, not a retry
            return Result(Verdict.REFUSED, reason=f"SMTP: {exc}"[:300])
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
        if refused:
            return Result(Verdict.REFUSED, reason=f"recipient refused: {refused}"[:300])
        return Result(Verdict.SENT, provider_id=mail["Message-ID"])
