"""The roster: who calls, who interprets, the vendor bridge and who may sign in.

One YAML file (see ``config/roster.sample.yaml`` for the format, documented in its
header) is read once at start and turned into frozen dataclasses. Every mistake an
operator can make in it stops the service before it answers a call, with the file,
the line, the dotted key and the reason::

    roster.yaml:41: liaisons[2].phone: '+1 646-555-01' is not a usable phone number: too short

A roster that loads is internally consistent: every number is valid E.164 and used
once, ids are unique, languages are catalog ids, supervisors name real precincts,
duty schedules parse and the vendor's DTMF sequence can only produce dialable keys.
Lookups are exact matches on E.164 strings, which is what Twilio sends.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from string import Formatter
from typing import Callable, Literal, NoReturn, TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from config.duty import DEFAULT_TIMEZONE, DutySchedule, parse_window, zone
from config.errors import ConfigError
from config.phone import to_e164

KnownLanguage = Callable[[str], str | None]
"""Maps a code or name from the roster to the catalog's canonical id, or None if unknown."""

T = TypeVar("T")

ROLES = ("sergeant", "viewer")
DTMF_PLACEHOLDERS = ("account", "pin", "language")
DTMF_KEYS = frozenset("0123456789*#")
DTMF_TEMPLATE_CHARS = DTMF_KEYS | frozenset("wW")  # w / W: Twilio's half-second / one-second pause

SECTIONS = ("timezone", "service", "precincts", "supervisors", "liaisons", "vendor", "users")
REQUIRED_SECTIONS = ("service", "precincts", "liaisons", "vendor", "users")

HASH_HELP = (
    "generate one with: python -c 'import getpass; from werkzeug.security import "
    "generate_password_hash as h; print(h(getpass.getpass()))'"
)

_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_PRECINCT_ID = re.compile(r"[0-9]{1,6}")
_PIN = re.compile(r"[0-9]{4,8}")
_WERKZEUG_HASH = re.compile(r"(scrypt|pbkdf2)(:[^$\s]+)?\$[^$\s]+\$[0-9a-f]+")
_NULL_TAG = "tag:yaml.org,2002:null"


# --------------------------------------------------------------------------- the roster
@dataclass(frozen=True)
class Precinct:
    """A precinct: the id an unknown caller keys in, its dual-handset lines and unit PIN."""

    id: str
    name: str
    lines: tuple[str, ...]
    pin: str = field(repr=False)  # secrets stay out of reprs, so out of logs and tracebacks


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

    def dtmf_for(self, vendor_language_code: str) -> str:
        """The digits to send after the vendor answers, e.g. ``ww123456#ww7890#ww001#``.

        The template was checked at load time; the code is checked here because it may
        come from the language catalog, which this module does not own.
        """
        code = str(vendor_language_code)
        if not code or not set(code) <= DTMF_KEYS:
            raise ValueError(f"vendor language code {code!r} cannot be sent as DTMF (digits, * and # only)")
        return self.dtmf.format(account=self.account, pin=self.pin, language=code)


@dataclass(frozen=True)
class User:
    """A dashboard sign-in. `password_hash` is werkzeug's; plain passwords never load."""

    username: str
    name: str
    role: str
    password_hash: str = field(repr=False)


@dataclass(frozen=True)
class Caller:
    """Who a roster phone belongs to: a precinct line or a supervisor's cell."""

    kind: Literal["precinct", "supervisor"]
    id: str
    name: str
    precinct_id: str


@dataclass(frozen=True)
class Roster:
    """Everything the roster file says, validated, with lookups by id and by E.164 number."""

    path: str
    timezone: str
    service_number: str
    precincts: tuple[Precinct, ...]
    supervisors: tuple[Supervisor, ...]
    liaisons: tuple[Liaison, ...]
    vendor: Vendor
    users: tuple[User, ...]
    _callers: dict[str, Caller] = field(init=False, repr=False, compare=False, hash=False)
    _precincts: dict[str, Precinct] = field(init=False, repr=False, compare=False, hash=False)
    _liaisons: dict[str, Liaison] = field(init=False, repr=False, compare=False, hash=False)
    _liaison_phones: dict[str, Liaison] = field(init=False, repr=False, compare=False, hash=False)
    _supervisor_cells: dict[str, Supervisor] = field(init=False, repr=False, compare=False, hash=False)
    _users: dict[str, User] = field(init=False, repr=False, compare=False, hash=False)
    _numbers: frozenset[str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        callers: dict[str, Caller] = {}
        for p in self.precincts:
            for line in p.lines:
                callers.setdefault(line, Caller("precinct", p.id, p.name, p.id))
        for s in self.supervisors:
            callers.setdefault(s.cell, Caller("supervisor", s.id, s.name, s.precinct))
        indexes = {
            "_callers": callers,
            "_precincts": _first_by(self.precincts, lambda p: p.id),
            "_liaisons": _first_by(self.liaisons, lambda l: l.id),
            "_liaison_phones": _first_by(self.liaisons, lambda l: l.phone),
            "_supervisor_cells": _first_by(self.supervisors, lambda s: s.cell),
            "_users": _first_by(self.users, lambda u: u.username),
        }
        for name, index in indexes.items():
            object.__setattr__(self, name, index)
        numbers = {self.service_number, self.vendor.number, self.vendor.alternate or ""}
        numbers.update(line for p in self.precincts for line in p.lines)
        numbers.update(s.cell for s in self.supervisors)
        numbers.update(l.phone for l in self.liaisons)
        object.__setattr__(self, "_numbers", frozenset(numbers - {""}))

    def knows(self, e164: str) -> bool:
        """Whether `e164` is one of the roster's own numbers (a line, a cell, a liaison's or the
        vendor's phone, the service number): only those may be stored in full."""
        return e164 in self._numbers

    def caller(self, e164: str) -> Caller | None:
        """The precinct line or supervisor cell `e164` belongs to; None for any other phone."""
        return self._callers.get(e164)

    def precinct(self, id: str) -> Precinct | None:
        return self._precincts.get(id)

    def liaison(self, id: str) -> Liaison | None:
        return self._liaisons.get(id)

    def liaison_by_phone(self, e164: str) -> Liaison | None:
        return self._liaison_phones.get(e164)

    def supervisor_by_cell(self, e164: str) -> Supervisor | None:
        return self._supervisor_cells.get(e164)

    def user(self, username: str) -> User | None:
        return self._users.get(username)


def _first_by(items: tuple[T, ...], key: Callable[[T], str]) -> dict[str, T]:
    """An index where the first item wins (the loader has already refused duplicates)."""
    index: dict[str, T] = {}
    for item in items:
        index.setdefault(key(item), item)
    return index


# --------------------------------------------------------------------------- loading
def load_roster(path: str | os.PathLike[str], known_language: KnownLanguage, region: str = "US") -> Roster:
    """Read and validate the roster file; any problem raises ConfigError(path, line, key, reason).

    `known_language(code)` returns the catalog's canonical id for a code or name, or None.
    `region` is how numbers written without ``+<country code>`` are read.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise ConfigError(name, reason="file not found") from None
    except IsADirectoryError:
        raise ConfigError(name, reason="is a directory, not a roster file") from None
    except PermissionError:
        raise ConfigError(name, reason="permission denied") from None
    except OSError as exc:
        raise ConfigError(name, reason=f"cannot read the file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            name, line, reason=f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8"
        ) from None
    return parse_roster(text, known_language, region=region, path=name)


def parse_roster(text: str, known_language: KnownLanguage, region: str = "US", path: str = "<roster>") -> Roster:
    """Validate roster YAML given as text; errors name `path` as if it were the file."""
    return _Reader(path, known_language, region).roster(_compose(text, path))


def _compose(text: str, path: str) -> Node | None:
    """YAML → node graph (not Python objects), so every value keeps its line number."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = f"invalid YAML: {exc.problem or exc.context or 'syntax error'}"
        if exc.context and exc.problem and exc.context_mark is not None:
            reason += f" ({exc.context} on line {exc.context_mark.line + 1})"
        if "\\t" in reason or "\t" in reason:
            reason += "; indent with spaces, not tabs"
        raise ConfigError(path, mark.line + 1 if mark else None, reason=reason) from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        char = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        raise ConfigError(path, line, reason=f"invalid YAML: control character {char} is not allowed") from None
    except yaml.YAMLError as exc:  # anything else the parser can raise, still with the file name
        raise ConfigError(path, reason=f"invalid YAML: {exc}") from None


def _line(node: Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None and node.start_mark is not None else None


def _join(parent: str | None, name: str) -> str:
    return f"{parent}.{name}" if parent else name


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping (key: value lines)"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == _NULL_TAG:
        return "nothing"
    return f"the value {node.value!r}"


class _Reader:
    """Walks the node graph section by section; the first problem found is raised."""

    def __init__(self, path: str, known_language: KnownLanguage, region: str) -> None:
        self.path = path
        self.known_language = known_language
        self.region = region
        self.numbers: dict[str, tuple[str, int | None]] = {}  # e164 -> (key, line) first seen

    # ------------------------------------------------------------------ primitives
    def fail(self, node: Node | None, key: str | None, reason: str) -> NoReturn:
        raise ConfigError(self.path, _line(node), key, reason)

    def fields(
        self,
        node: Node,
        key: str | None,
        required: tuple[str, ...],
        optional: tuple[str, ...] = (),
        refused: dict[str, str] | None = None,
        what: str = "field",
        order: tuple[str, ...] = (),
    ) -> dict[str, Node]:
        """A mapping's values by key, after rejecting duplicates, typos, refused and missing keys."""
        allowed = order or required + optional
        if not isinstance(node, MappingNode):
            self.fail(node, key, f"expected a mapping of {what}s ({', '.join(allowed)}), got {_kind(node)}")
        found: dict[str, Node] = {}
        key_lines: dict[str, int | None] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.fail(key_node, key, f"a {what} name must be plain text, got {_kind(key_node)}")
            name = key_node.value
            if name == "<<":
                self.fail(key_node, key, "YAML merge keys (<<) are not supported; write the fields out")
            if refused and name in refused:
                self.fail(key_node, _join(key, name), refused[name])
            if name in found:
                self.fail(key_node, _join(key, name), f"given twice (first on line {key_lines[name]})")
            if name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.fail(key_node, _join(key, name), f"unknown {what}{hint}; expected {', '.join(allowed)}")
            found[name] = value_node
            key_lines[name] = _line(key_node)
        for name in required:
            if name not in found:
                line_node = None if key is None else node  # a missing top-level section has no line
                self.fail(line_node, _join(key, name), f"required {what} missing")
        return {name: value for name, value in found.items() if value.tag != _NULL_TAG or name in required}

    def text(self, node: Node, key: str) -> str:
        """A scalar's source text, so ``pin: 0750`` stays "0750" and ``no`` stays "no"."""
        if not isinstance(node, ScalarNode):
            self.fail(node, key, f"expected text, got {_kind(node)}")
        if node.tag == _NULL_TAG or not node.value.strip():
            self.fail(node, key, "is empty")
        return node.value.strip()

    def items(self, node: Node, key: str, what: str, single_ok: bool = False, min_items: int = 0) -> list[Node]:
        """A list's item nodes; `single_ok` also accepts one bare value (``duty: always``)."""
        if isinstance(node, SequenceNode):
            items = list(node.value)
        elif single_ok and isinstance(node, ScalarNode) and node.tag != _NULL_TAG:
            items = [node]
        else:
            self.fail(node, key, f"expected a list of {what}, got {_kind(node)}")
        if len(items) < min_items:
            self.fail(node, key, f"needs at least {min_items} {what.rstrip('s') if min_items == 1 else what}")
        return items

    def phone(self, node: Node, key: str) -> str:
        """An E.164 number used nowhere else in the roster (each number routes one way)."""
        raw = self.text(node, key)
        try:
            e164 = to_e164(raw, self.region)
        except ValueError as exc:
            self.fail(node, key, str(exc))
        if e164 in self.numbers:
            other_key, other_line = self.numbers[e164]
            where = f"{other_key} (line {other_line})" if other_line else other_key
            self.fail(node, key, f"{e164} is already used at {where}; each number may appear only once")
        self.numbers[e164] = (key, _line(node))
        return e164

    def unique(self, seen: dict[str, int | None], value: str, node: Node, key: str, what: str) -> str:
        if value in seen:
            self.fail(node, key, f"duplicate {what} {value!r} (first on line {seen[value]})")
        seen[value] = _line(node)
        return value

    def slug(self, node: Node, key: str) -> str:
        value = self.text(node, key)
        if not _SLUG.fullmatch(value):
            self.fail(node, key, f"{value!r}: use letters, digits, '.', '_' or '-' (up to 64, no spaces)")
        return value

    def keys(self, node: Node, key: str, what: str) -> str:
        """A secret sent as DTMF (account, PIN, codes): digits, * and #; never echoed back."""
        value = self.text(node, key)
        if not set(value) <= DTMF_KEYS:
            self.fail(node, key, f"{what} can only contain digits, * and # (it is sent as DTMF)")
        return value

    def language(self, node: Node, key: str) -> str:
        code = self.text(node, key)
        canonical = self.known_language(code)
        if not canonical:
            self.fail(
                node,
                key,
                f"unknown language {code!r}: not in the language catalog "
                "(use a catalog code such as spa or a name such as Spanish)",
            )
        return canonical

    # ------------------------------------------------------------------ sections
    def roster(self, top: Node | None) -> Roster:
        if top is None:
            self.fail(None, None, "the file is empty; see config/roster.sample.yaml for the format")
        if not isinstance(top, MappingNode):
            self.fail(top, None, f"expected the roster sections ({', '.join(SECTIONS)}), got {_kind(top)}")
        sections = self.fields(
            top, None, REQUIRED_SECTIONS, ("timezone", "supervisors"), what="section", order=SECTIONS
        )
        tz_name = DEFAULT_TIMEZONE
        if "timezone" in sections:
            tz_name = self.text(sections["timezone"], "timezone")
            try:
                zone(tz_name)
            except ValueError as exc:
                self.fail(sections["timezone"], "timezone", str(exc))
        service = self.fields(sections["service"], "service", ("number",))
        service_number = self.phone(service["number"], "service.number")
        precincts = self.precincts(sections["precincts"])
        supervisors = self.supervisors(sections.get("supervisors"), [p.id for p in precincts])
        liaisons = self.liaisons(sections["liaisons"], tz_name)
        vendor = self.vendor(sections["vendor"])
        users = self.users(sections["users"])
        return Roster(
            path=self.path,
            timezone=tz_name,
            service_number=service_number,
            precincts=precincts,
            supervisors=supervisors,
            liaisons=liaisons,
            vendor=vendor,
            users=users,
        )

    def precincts(self, node: Node) -> tuple[Precinct, ...]:
        out, ids = [], {}
        for i, item in enumerate(self.items(node, "precincts", "precincts", min_items=1)):
            k = f"precincts[{i}]"
            f = self.fields(item, k, ("id", "name", "lines", "pin"))
            pid = self.text(f["id"], f"{k}.id")
            if not _PRECINCT_ID.fullmatch(pid):
                self.fail(f["id"], f"{k}.id", f"{pid!r}: a precinct id is keyed in on a phone, so digits only (1 to 6)")
            self.unique(ids, pid, f["id"], f"{k}.id", "precinct id")
            lines = tuple(
                self.phone(n, f"{k}.lines[{j}]")
                for j, n in enumerate(
                    self.items(f["lines"], f"{k}.lines", "phone numbers", single_ok=True, min_items=1)
                )
            )
            pin = self.text(f["pin"], f"{k}.pin")
            if not _PIN.fullmatch(pin):
                self.fail(
                    f["pin"],
                    f"{k}.pin",
                    f"a unit PIN must be 4 to 8 digits (got {len(pin)} characters"
                    + ("" if pin.isascii() and pin.isdigit() else ", not all digits")
                    + ")",
                )
            out.append(Precinct(id=pid, name=self.text(f["name"], f"{k}.name"), lines=lines, pin=pin))
        return tuple(out)

    def supervisors(self, node: Node | None, precinct_ids: list[str]) -> tuple[Supervisor, ...]:
        if node is None:
            return ()
        out, ids = [], {}
        for i, item in enumerate(self.items(node, "supervisors", "supervisors")):
            k = f"supervisors[{i}]"
            f = self.fields(item, k, ("id", "name", "cell", "precinct"))
            sid = self.unique(ids, self.slug(f["id"], f"{k}.id"), f["id"], f"{k}.id", "supervisor id")
            name = self.text(f["name"], f"{k}.name")
            cell = self.phone(f["cell"], f"{k}.cell")
            precinct = self.text(f["precinct"], f"{k}.precinct")
            if precinct not in precinct_ids:
                self.fail(
                    f["precinct"],
                    f"{k}.precinct",
                    f"unknown precinct {precinct!r}; the precincts are {', '.join(precinct_ids)}",
                )
            out.append(Supervisor(id=sid, name=name, cell=cell, precinct=precinct))
        return tuple(out)

    def liaisons(self, node: Node, tz_name: str) -> tuple[Liaison, ...]:
        out, ids = [], {}
        tz = zone(tz_name)
        for i, item in enumerate(self.items(node, "liaisons", "liaisons")):
            k = f"liaisons[{i}]"
            f = self.fields(item, k, ("id", "name", "phone", "languages", "duty"))
            lid = self.unique(ids, self.slug(f["id"], f"{k}.id"), f["id"], f"{k}.id", "liaison id")
            name = self.text(f["name"], f"{k}.name")
            phone = self.phone(f["phone"], f"{k}.phone")
            languages: list[str] = []
            for j, n in enumerate(
                self.items(f["languages"], f"{k}.languages", "languages", single_ok=True, min_items=1)
            ):
                canonical = self.language(n, f"{k}.languages[{j}]")
                if canonical not in languages:
                    languages.append(canonical)
            windows = []
            for j, n in enumerate(self.items(f["duty"], f"{k}.duty", "duty entries", single_ok=True, min_items=1)):
                entry = self.text(n, f"{k}.duty[{j}]")
                try:
                    windows.append(parse_window(entry))
                except ValueError as exc:
                    self.fail(n, f"{k}.duty[{j}]", str(exc))
            out.append(
                Liaison(
                    id=lid,
                    name=name,
                    phone=phone,
                    languages=tuple(languages),
                    duty=DutySchedule(windows=tuple(windows), timezone=tz),
                )
            )
        return tuple(out)

    def vendor(self, node: Node) -> Vendor:
        k = "vendor"
        f = self.fields(
            node,
            k,
            ("name", "number", "account", "pin", "dtmf", "unknown_language_code"),
            ("alternate", "language_codes"),
            order=("name", "number", "alternate", "account", "pin", "dtmf", "language_codes", "unknown_language_code"),
        )
        name = self.text(f["name"], f"{k}.name")
        number = self.phone(f["number"], f"{k}.number")
        alternate = self.phone(f["alternate"], f"{k}.alternate") if "alternate" in f else None
        account = self.keys(f["account"], f"{k}.account", "the account")
        pin = self.keys(f["pin"], f"{k}.pin", "the PIN")
        dtmf = self.dtmf_template(f["dtmf"], f"{k}.dtmf")
        codes: dict[str, str] = {}
        if "language_codes" in f:
            table = f["language_codes"]
            if not isinstance(table, MappingNode):
                self.fail(table, f"{k}.language_codes", f'expected a mapping like {{spa: "001"}}, got {_kind(table)}')
            lines: dict[str, int | None] = {}
            for key_node, value_node in table.value:
                entry = f"{k}.language_codes.{key_node.value if isinstance(key_node, ScalarNode) else '?'}"
                canonical = self.language(key_node, entry)
                if canonical in codes:
                    self.fail(key_node, entry, f"{canonical} is given twice (first on line {lines[canonical]})")
                codes[canonical] = self.keys(value_node, entry, "a vendor language code")
                lines[canonical] = _line(key_node)
        unknown = self.keys(f["unknown_language_code"], f"{k}.unknown_language_code", "the unknown-language code")
        return Vendor(
            name=name,
            number=number,
            alternate=alternate,
            account=account,
            pin=pin,
            dtmf=dtmf,
            language_codes=codes,
            unknown_language_code=unknown,
        )

    def dtmf_template(self, node: Node, key: str) -> str:
        """Only {account} {pin} {language} and dialable keys, so the sent digits are always valid."""
        template = self.text(node, key)
        names = ", ".join("{" + p + "}" for p in DTMF_PLACEHOLDERS)
        try:
            parts = list(Formatter().parse(template))
        except ValueError:
            self.fail(node, key, f"unbalanced {{ or }}; the placeholders are {names}")
        used = set()
        for literal, placeholder, spec, conversion in parts:
            bad = [c for c in dict.fromkeys(literal) if c not in DTMF_TEMPLATE_CHARS]  # in order of appearance
            if bad:
                self.fail(
                    node,
                    key,
                    f"{''.join(bad)!r} cannot be sent as DTMF; only 0-9 * # and w W "
                    f"(pauses) are allowed besides the placeholders {names}",
                )
            if placeholder is None:
                continue
            if placeholder not in DTMF_PLACEHOLDERS:
                self.fail(node, key, f"unknown placeholder {{{placeholder}}}; use {names}")
            if spec or conversion:
                self.fail(node, key, f"placeholder {{{placeholder}}} takes no format options")
            used.add(placeholder)
        if "language" not in used:
            self.fail(node, key, "the template must contain {language}, or the vendor never learns the language")
        return template

    def users(self, node: Node) -> tuple[User, ...]:
        out, names = [], {}
        for i, item in enumerate(self.items(node, "users", "users", min_items=1)):
            k = f"users[{i}]"
            f = self.fields(
                item,
                k,
                ("username", "name", "role", "password_hash"),
                refused={
                    "password": "plain-text passwords are refused; replace it with password_hash: <hash>, " + HASH_HELP
                },
            )
            username = self.unique(
                names, self.slug(f["username"], f"{k}.username"), f["username"], f"{k}.username", "username"
            )
            role = self.text(f["role"], f"{k}.role")
            if role not in ROLES:
                self.fail(f["role"], f"{k}.role", f"unknown role {role!r}; use {' or '.join(ROLES)}")
            password_hash = self.text(f["password_hash"], f"{k}.password_hash")
            if not _WERKZEUG_HASH.fullmatch(password_hash):
                self.fail(
                    f["password_hash"],
                    f"{k}.password_hash",
                    "does not look like a werkzeug password hash (scrypt:...$salt$hash); " + HASH_HELP,
                )
            out.append(
                User(username=username, name=self.text(f["name"], f"{k}.name"), role=role, password_hash=password_hash)
            )
        return tuple(out)


__all__ = [
    "Caller",
    "ConfigError",
    "KnownLanguage",
    "Liaison",
    "Precinct",
    "ROLES",
    "Roster",
    "Supervisor",
    "User",
    "Vendor",
    "load_roster",
    "parse_roster",
]
