"""The master's table of accounts: who is registered (learned from the writer's Ready at
start, then kept up to date by the writes the master itself orders), their credentials
records (never passwords) and certificate fingerprints, and the rule of names people own: a
nick that is an account's name belongs to whoever is logged in to that account, and
service-looking names (chatd/identity.py) belong to nobody. Pure data; the requests that
change it are chatd/hub/account_requests.py."""

from __future__ import annotations

from dataclasses import dataclass, field

from ircproto.casemap import casefold


@dataclass(slots=True, eq=False)
class AccountRecord:
    name: str  # as registered
    password_hash: str
    scram: str
    certfps: set[str] = field(default_factory=set)


class AccountBook:
    def __init__(self) -> None:
        self._accounts: dict[str, AccountRecord] = {}  # folded name -> record
        self._by_cert: dict[str, str] = {}  # fingerprint -> folded name

    def load(self, rows: tuple | list) -> None:
        """Rows from the writer's Ready: (name, password_hash, scram, fingerprints)."""
        for name, password_hash, scram, certfps in rows:
            self.add(name, password_hash, scram)
            for fingerprint in certfps:
                self.add_cert(name, fingerprint)

    def __len__(self) -> int:
        return len(self._accounts)

    def get(self, name: str) -> AccountRecord | None:
        return self._accounts.get(casefold(name))

    def by_cert(self, fingerprint: str) -> AccountRecord | None:
        folded = self._by_cert.get(fingerprint.lower())
        return self._accounts.get(folded) if folded is not None else None

    def add(self, name: str, password_hash: str, scram: str) -> AccountRecord:
        record = AccountRecord(name, password_hash, scram)
        self._accounts[casefold(name)] = record
        return record

    def set_credentials(self, name: str, password_hash: str, scram: str) -> None:
        record = self._accounts.get(casefold(name))
        if record is not None:
            record.password_hash, record.scram = password_hash, scram

    def remove(self, name: str) -> None:
        record = self._accounts.pop(casefold(name), None)
        if record is not None:
            for fingerprint in record.certfps:
                self._by_cert.pop(fingerprint, None)

    def add_cert(self, name: str, fingerprint: str) -> None:
        record = self._accounts.get(casefold(name))
        if record is not None:
            fingerprint = fingerprint.lower()
            previous = self._by_cert.get(fingerprint)
            if previous is not None and previous in self._accounts:
                self._accounts[previous].certfps.discard(fingerprint)
            record.certfps.add(fingerprint)
            self._by_cert[fingerprint] = casefold(name)

    def remove_cert(self, name: str, fingerprint: str) -> None:
        record = self._accounts.get(casefold(name))
        fingerprint = fingerprint.lower()
        if record is not None and fingerprint in record.certfps:
            record.certfps.discard(fingerprint)
            self._by_cert.pop(fingerprint, None)

    def nick_owner(self, nick: str) -> AccountRecord | None:
        """The account whose name this nick is (its owner may use it), or None."""
        return self._accounts.get(casefold(nick))
