"""amqtt plugin enforcing shopfloor's MQTT accounts and the topic rights of `shopfloor.contract.access`.

One class does both jobs (authentication and topic checks) so the account table exists once: the role a
topic check needs comes from the same account the login was verified against.

amqtt calls `topic_filtering` for PUBLISH, SUBSCRIBE and each live delivery (RECEIVE) only; retained
deliveries bypass it, which `shopfloor.broker.embedded` closes in its Broker subclass.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path

from amqtt.contexts import Action, BaseContext
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin
from amqtt.session import Session

from shopfloor import credentials as creds_mod
from shopfloor.broker.passwords import hash_password, verify_password
from shopfloor.contract.access import Role, may_publish, may_receive, may_subscribe

log = logging.getLogger(__name__)


def is_topic_name(topic: str) -> bool:
    """A concrete topic a client may publish to: no wildcards, no broker-internal `$` topics."""
    return bool(topic) and not topic.startswith("$") and "+" not in topic and "#" not in topic


def is_allowed(role: Role, site: str, action: Action, topic: str, printer: str | None = None) -> bool:
    """The broker's whole access decision (for the printer role: as `printer`'s account); `$SYS/…` is never
    readable because no rule grants `$` topics and `topic_matches` keeps `$` topics out of wildcard rules."""
    if action == Action.PUBLISH:
        return is_topic_name(topic) and may_publish(role, site, topic, printer)
    if action == Action.SUBSCRIBE:
        return may_subscribe(role, site, topic, printer)
    if action == Action.RECEIVE:
        return may_receive(role, site, topic, printer)
    return False


@dataclass
class AccountConfig:
    password_hash: str
    """`shopfloor.broker.passwords.hash_password` of the account's password."""
    role: str
    """A `shopfloor.contract.access.Role` value (a plain str: amqtt builds the config with strict dacite)."""
    printer: str = ""
    """For the printer role: the one printer whose topics the account may use."""


@dataclass(frozen=True)
class _Account:
    password_hash: str
    role: Role
    printer: str | None

    def may(self, site: str, action: Action, topic: str) -> bool:
        return is_allowed(self.role, site, action, topic, self.printer)


class ShopfloorAccessPlugin(BaseAuthPlugin, BaseTopicPlugin):
    """Logins need a known username and its password; every topic action is checked against the role's rules."""

    @dataclass
    class Config:
        site: str = ""
        accounts: dict[str, AccountConfig] = field(default_factory=dict)
        """username -> its password hash and role"""
        credentials_file: str = ""
        """The site's credentials.toml the accounts came from: re-read at a login when it has changed, so a printer
        added at /setup (its account written there) gets in without restarting the broker, and a renewed password
        shuts the old one out (a client already connected stays until it disconnects)."""

    def __init__(self, context: BaseContext) -> None:
        super().__init__(context)
        config = context.config
        if not isinstance(config, ShopfloorAccessPlugin.Config):
            raise TypeError("ShopfloorAccessPlugin must be configured through BrokerConfig.plugins")
        if not config.site:
            raise ValueError("ShopfloorAccessPlugin: 'site' is empty")
        if not config.accounts:
            raise ValueError("ShopfloorAccessPlugin: no accounts configured; the broker would refuse every login")
        self.site = config.site
        self._accounts = {name: _account(name, a) for name, a in config.accounts.items()}
        self._credentials_file = Path(config.credentials_file) if config.credentials_file else None
        self._credentials_mtime = self._mtime()
        self._reloading = asyncio.Lock()
        # Unknown usernames are checked against this too, so a refusal takes as long whether or not the name exists.
        self._decoy_hash = hash_password("decoy")

    def account_of(self, session: Session | None) -> _Account | None:
        if session is None or session.username is None:
            return None
        return self._accounts.get(session.username)

    def role_of(self, session: Session | None) -> Role | None:
        account = self.account_of(session)
        return account.role if account else None

    async def authenticate(self, *, session: Session) -> bool:
        who = f"client {session.client_id!r} from {session.remote_address}:{session.remote_port}"
        if not session.username:
            log.warning("MQTT login refused: %s sent no username (anonymous access is off)", who)
            return False
        # before every check, not only a failed one: a printer's password renewed in the file (a lost printer host)
        # must stop the old one at once
        await self._reload_if_changed()
        account = self._accounts.get(session.username)
        # scrypt takes tens of milliseconds: keep it off the loop that serves every other client.
        password_ok = await asyncio.to_thread(
            verify_password, session.password or "", account.password_hash if account else self._decoy_hash
        )
        if account is None or not password_ok:
            log.warning("MQTT login refused: user %r, %s: unknown user or wrong password", session.username, who)
            return False
        # A last will is published by the broker on the client's behalf, past the PUBLISH check: vet it now
        # rather than let a lounge screen leave a retained repair-order state behind.
        will_topic = session.will_topic or ""
        if session.will_flag and not account.may(self.site, Action.PUBLISH, will_topic):
            log.warning("MQTT login refused: user %r, %s: last will topic %r is not writable for role %s",
                        session.username, who, will_topic, account.role.value)
            return False
        log.debug("MQTT login: user %r (%s), %s", session.username, account.role.value, who)
        return True

    def _mtime(self) -> tuple[int, int, int] | None:
        """What tells a changed file: its inode too, since credentials.write replaces the file (a rewrite within
        the file system's timestamp tick keeps the mtime)."""
        if self._credentials_file is None:
            return None
        try:
            st = self._credentials_file.stat()
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    async def _reload_if_changed(self) -> bool:
        """Re-read credentials.toml if it changed since the accounts were last taken from it; True if they were.
        A file that cannot be read keeps the accounts in use (and says why)."""
        async with self._reloading:
            mtime = self._mtime()
            if mtime is None or mtime == self._credentials_mtime:
                return False
            assert self._credentials_file is not None
            path = self._credentials_file
            try:
                creds = creds_mod.loads(path.read_text(encoding="utf-8"), str(path))
                accounts = await asyncio.to_thread(_accounts_of, creds)
            except (OSError, ValueError) as exc:
                log.error("MQTT accounts not reloaded, the ones in use stay: %s", exc)
                self._credentials_mtime = mtime
                return False
            added = sorted(set(accounts) - set(self._accounts))
            self._accounts = accounts
            self._credentials_mtime = mtime
            log.info("MQTT accounts reloaded from %s (%d accounts%s)", path, len(accounts),
                     f"; new: {', '.join(added)}" if added else "")
            return True

    async def topic_filtering(
        self, *, session: Session | None = None, topic: str | None = None, action: Action | None = None
    ) -> bool:
        account = self.account_of(session)
        if account is not None and topic is not None and action is not None and account.may(self.site, action, topic):
            return True
        username = session.username if session else None
        client_id = session.client_id if session else None
        # Receive denials are the broker filtering for a client, not a client misbehaving: keep them quieter.
        level = logging.INFO if action == Action.RECEIVE else logging.WARNING
        log.log(level, "MQTT %s denied: user %r (role %s, client %r), topic %r",
                action.value if action else "action", username, account.role.value if account else "unknown",
                client_id, topic)
        return False


def account_configs(creds: creds_mod.Credentials) -> dict[str, dict[str, str]]:
    """Every login of the site's credentials as the plugin's account table (password hashes, role, printer)."""
    accounts: dict[str, dict[str, str]] = {}
    for login in creds.logins():
        username = login.account.username
        if username in accounts:
            raise ValueError(f"MQTT username {username!r} is used by more than one account")
        accounts[username] = {"password_hash": hash_password(login.account.password), "role": login.role.value,
                              "printer": login.printer or ""}
    return accounts


def _accounts_of(creds: creds_mod.Credentials) -> dict[str, _Account]:
    return {name: _account(name, AccountConfig(**a)) for name, a in account_configs(creds).items()}


def _account(username: str, config: AccountConfig) -> _Account:
    role = Role(config.role)
    printer = config.printer or None
    if (role == Role.PRINTER) != (printer is not None):
        raise ValueError(f"ShopfloorAccessPlugin: account {username!r}: a printer account names its printer, "
                         "and only a printer account does")
    return _Account(config.password_hash, role, printer)
