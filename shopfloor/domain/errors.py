"""Domain errors carry an i18n key and parameters: the kiosk shows them in the advisor's language, the API
returns the English text as `detail`."""

from __future__ import annotations

from shopfloor.i18n import t


class DomainError(Exception):
    def __init__(self, key: str, /, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def message(self, lang: str = "en") -> str:
        return t(lang, self.key, **self.params)

    def __str__(self) -> str:
        return self.message("en")


class NotFound(DomainError):
    """The thing named does not exist (HTTP 404)."""


class Refused(DomainError):
    """Understood, but the rules do not allow it now (HTTP 409)."""


class Invalid(DomainError):
    """Malformed input (HTTP 422)."""


class LoginRefused(DomainError):
    """Wrong name or PIN, or the advisor is locked out."""
