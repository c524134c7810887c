"""The roster as the domain sees it: who calls, who interprets, the vendor bridge, who signs in.

Frozen values, validated before they exist: config/roster.py reads the roster file and
refuses anything inconsistent (numbers in E.164 and used once, ids unique, languages in the
catalog, a DTMF template that can only produce dialable keys), then builds these. Lookups
are exact matches on E.164 strings, which is what Twilio sends.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from dispatch.duty import DutySchedule

T = TypeVar("T")

ROLES = ("sergeant", "viewer", "commander")
DTMF_KEYS = frozenset("0123456789*#")
GENDERS = ("female", "male")  # an interpreter preference a request may carry (issue 17)


@dataclass(frozen=True)
class Precinct:
    """A precinct: the id an unknown caller keys in, its dual-handset lines and unit PIN."""

    id: str
    name: str
    lines: tuple[str, ...]
    pin: str = field(repr=False)  # secrets stay out of reprs, so out of logs and tracebacks
    geographies: tuple[str, ...] = ()  # census areas (ACS GEO_IDs) it covers, for the coverage report


@dataclass(frozen=True)
class Supervisor:
    """A patrol supervisor whose cell may call or text requests for `precinct`."""

    id: str
    name: str
    cell: str
    precinct: str


@dataclass(frozen=True)
class Liaison:
    """A multilingual community liaison; `languages` are canonical catalog ids."""

    id: str
    name: str
    phone: str
    languages: tuple[str, ...]
    duty: DutySchedule
    gender: str = ""  # "female" | "male" | "" (not given: never offered a request with a preference)

    def suits(self, preference: str) -> bool:
        """Whether this liaison may take a request asking for a `preference` ("" = anyone)."""
        return not preference or self.gender == preference

    def on_duty_at(self, dt: datetime) -> bool:
        """Whether the roster schedule has this liaison on duty at `dt` (overrides live in Redis)."""
        return self.duty.on_duty_at(dt)


@dataclass(frozen=True)
class Vendor:
    """The interpretation vendor's bridge and the keys its IVR expects."""

    name: str
    number: str
    alternate: str | None
    account: str = field(repr=False)
    pin: str = field(repr=False)
    dtmf: str
    language_codes: dict[str, str] = field(hash=False)
    unknown_language_code: str
    gender_codes: dict[str, str] = field(default_factory=dict, hash=False)  # female / male / any

    def gender_code(self, preference: str) -> str | None:
        """The keys that ask the vendor's IVR for `preference` ("" = any); None when its bridge
        has no such option (no {gender} in the template, or no code for it)."""
        if "{gender}" not in self.dtmf:
            return "" if not preference else None
        if not preference:
            return self.gender_codes.get("any", "")
        return self.gender_codes.get(preference) or None

    def dtmf_for(self, vendor_language_code: str, gender_code: str = "") -> str:
        """The digits to send after the vendor answers, e.g. ``ww123456#ww7890#ww001#``.

        The template was checked when the roster was read; the code is checked here because
        it may come from the language catalog, which the roster does not own.
        """
        code = str(vendor_language_code)
        if not code or not set(code) <= DTMF_KEYS:
            raise ValueError(f"vendor language code {code!r} cannot be sent as DTMF (digits, * and # only)")
        return self.dtmf.format(account=self.account, pin=self.pin, language=code, gender=gender_code)


@dataclass(frozen=True)
class User:
    """A dashboard sign-in. `password_hash` is werkzeug's; plain passwords never load."""

    username: str
    name: str
    role: str
    password_hash: str = field(repr=False)


@dataclass(frozen=True)
class Caller:
    """Who is asking for an interpreter: a roster phone (a precinct's line, a supervisor's
    cell), or another phone whose caller keyed a precinct and its unit PIN ("pin")."""

    number: str
    kind: str  # "precinct" | "supervisor" | "pin"
    precinct: str  # the precinct id
    unit: str = ""  # the supervisor's id; "" for a precinct line or a PIN caller


class Lookup(Generic[T]):
    """Items by one of their keys: `roster.liaison("l-chen")` is that liaison, or None. The first
    item with a key wins (the roster file's reader has refused duplicates)."""

    def __init__(self, items: Iterable[T], key: Callable[[T], str]) -> None:
        self._items: dict[str, T] = {}
        for item in items:
            self._items.setdefault(key(item), item)

    def __call__(self, key: str) -> T | None:
        return self._items.get(key)


@dataclass(frozen=True)
class Roster:
    """Everything the roster file says, validated, with lookups by id and by E.164 number:
    `caller(e164)` (a precinct's line or a supervisor's cell; None for any other phone),
    `precinct(id)`, `liaison(id)`, `liaison_by_phone(e164)`, `supervisor_by_cell(e164)`,
    `user(username)`."""

    path: str
    timezone: str
    service_number: str
    precincts: tuple[Precinct, ...]
    supervisors: tuple[Supervisor, ...]
    liaisons: tuple[Liaison, ...]
    vendor: Vendor
    users: tuple[User, ...]
    caller: Lookup[Caller] = field(init=False, repr=False, compare=False, hash=False)
    precinct: Lookup[Precinct] = field(init=False, repr=False, compare=False, hash=False)
    liaison: Lookup[Liaison] = field(init=False, repr=False, compare=False, hash=False)
    liaison_by_phone: Lookup[Liaison] = field(init=False, repr=False, compare=False, hash=False)
    supervisor_by_cell: Lookup[Supervisor] = field(init=False, repr=False, compare=False, hash=False)
    user: Lookup[User] = field(init=False, repr=False, compare=False, hash=False)
    _numbers: frozenset[str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        callers = [Caller(line, "precinct", p.id) for p in self.precincts for line in p.lines]
        callers += [Caller(s.cell, "supervisor", s.precinct, s.id) for s in self.supervisors]
        derive = functools.partial(object.__setattr__, self)  # the dataclass is frozen
        derive("caller", Lookup(callers, lambda c: c.number))
        derive("precinct", Lookup(self.precincts, lambda p: p.id))
        derive("liaison", Lookup(self.liaisons, lambda liaison: liaison.id))
        derive("liaison_by_phone", Lookup(self.liaisons, lambda liaison: liaison.phone))
        derive("supervisor_by_cell", Lookup(self.supervisors, lambda s: s.cell))
        derive("user", Lookup(self.users, lambda u: u.username))
        numbers = {self.service_number, self.vendor.number, self.vendor.alternate or ""}
        numbers.update(line for p in self.precincts for line in p.lines)
        numbers.update(s.cell for s in self.supervisors)
        numbers.update(liaison.phone for liaison in self.liaisons)
        derive("_numbers", frozenset(numbers - {""}))

    def knows(self, e164: str) -> bool:
        """Whether `e164` is one of the roster's own numbers (a line, a cell, a liaison's or the
        vendor's phone, the service number): only those may be stored in full."""
        return e164 in self._numbers
