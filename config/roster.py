"""The roster: who calls, who interprets, the vendor bridge and who may sign in.

One YAML file (see ``config/roster.sample.yaml`` for the format, documented in its
header) is read once at start and turned into the domain's frozen roster types
(dispatch/roster.py). Every mistake an
operator can make in it stops the service before it answers a call, with the file,
the line, the dotted key and the reason::

    roster.yaml:41: liaisons[2].phone: '+1 646-555-01' is not a usable phone number: too short

A roster that loads is internally consistent: every number is valid E.164 and used
once, ids are unique, languages are catalog ids, supervisors name real precincts,
duty schedules parse and the vendor's DTMF sequence can only produce dialable keys.
Lookups are exact matches on E.164 strings, which is what Twilio sends.
"""

from __future__ import annotations

import os
import re
from string import Formatter

from yaml.nodes import MappingNode, Node, ScalarNode

from config.errors import ConfigError
from config.roster_preferences import gender_codes, liaison_gender
from config.yaml_nodes import KnownLanguage, NodeReader, compose, kind, line_of
from dispatch.duty import DEFAULT_TIMEZONE, DutySchedule, parse_window, zone
from dispatch.roster import DTMF_KEYS, ROLES, Liaison, Precinct, Roster, Supervisor, User, Vendor

DTMF_PLACEHOLDERS = ("account", "pin", "language", "gender")
DTMF_TEMPLATE_CHARS = DTMF_KEYS | frozenset("wW")  # w / W: Twilio's half-second / one-second pause

SECTIONS = ("timezone", "service", "precincts", "supervisors", "liaisons", "vendor", "users")
REQUIRED_SECTIONS = ("service", "precincts", "liaisons", "vendor", "users")

HASH_HELP = (
    "generate one with: python -c 'import getpass; from werkzeug.security import "
    "generate_password_hash as h; print(h(getpass.getpass()))'"
)

_PRECINCT_ID = re.compile(r"[0-9]{1,6}")
_PIN = re.compile(r"[0-9]{4,8}")
_GEOGRAPHY = re.compile(r"[0-9]{7}US[0-9A-Z]{2,20}")  # an ACS GEO_ID, e.g. 1400000US36047001100 (a tract)
_WERKZEUG_HASH = re.compile(r"(scrypt|pbkdf2)(:[^$\s]+)?\$[^$\s]+\$[0-9a-f]+")


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
        reason = f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8"
        raise ConfigError(name, line, reason=reason) from None
    return parse_roster(text, known_language, region=region, path=name)


def parse_roster(text: str, known_language: KnownLanguage, region: str = "US", path: str = "<roster>") -> Roster:
    """Validate roster YAML given as text; errors name `path` as if it were the file."""
    return _Reader(path, known_language, region).roster(compose(text, path))


class _Reader(NodeReader):
    """Walks the node graph section by section; the first problem found is raised."""

    # ------------------------------------------------------------------ sections
    def roster(self, top: Node | None) -> Roster:
        if top is None:
            self.fail(None, None, "the file is empty; see config/roster.sample.yaml for the format")
        if not isinstance(top, MappingNode):
            self.fail(top, None, f"expected the roster sections ({', '.join(SECTIONS)}), got {kind(top)}")
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
        out: list[Precinct] = []
        ids: dict[str, int | None] = {}
        for i, item in enumerate(self.items(node, "precincts", "precincts", min_items=1)):
            k = f"precincts[{i}]"
            f = self.fields(item, k, ("id", "name", "lines", "pin"), ("geographies",))
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
            geographies = self.geographies(f["geographies"], f"{k}.geographies") if "geographies" in f else ()
            out.append(
                Precinct(id=pid, name=self.text(f["name"], f"{k}.name"), lines=lines, pin=pin, geographies=geographies)
            )
        return tuple(out)

    def geographies(self, node: Node, key: str) -> tuple[str, ...]:
        """The census areas a precinct covers (ACS GEO_IDs), for the coverage report."""
        seen: dict[str, int | None] = {}
        for j, item in enumerate(self.items(node, key, "census geographies (ACS GEO_IDs)", single_ok=True)):
            geo = self.text(item, f"{key}[{j}]")
            if not _GEOGRAPHY.fullmatch(geo):
                self.fail(item, f"{key}[{j}]", f"{geo[:40]!r} is not an ACS GEO_ID (like 1400000US36047001100)")
            self.unique(seen, geo, item, f"{key}[{j}]", "geography")
        return tuple(seen)

    def supervisors(self, node: Node | None, precinct_ids: list[str]) -> tuple[Supervisor, ...]:
        if node is None:
            return ()
        out: list[Supervisor] = []
        ids: dict[str, int | None] = {}
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
        out: list[Liaison] = []
        ids: dict[str, int | None] = {}
        tz = zone(tz_name)
        for i, item in enumerate(self.items(node, "liaisons", "liaisons")):
            k = f"liaisons[{i}]"
            f = self.fields(item, k, ("id", "name", "phone", "languages", "duty"), ("gender",))
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
                    gender=liaison_gender(self, f.get("gender"), f"{k}.gender"),
                )
            )
        return tuple(out)

    def vendor(self, node: Node) -> Vendor:
        k = "vendor"
        f = self.fields(
            node,
            k,
            ("name", "number", "account", "pin", "dtmf", "unknown_language_code"),
            ("alternate", "language_codes", "gender_codes"),
            order=(
                "name",
                "number",
                "alternate",
                "account",
                "pin",
                "dtmf",
                "language_codes",
                "unknown_language_code",
                "gender_codes",
            ),
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
                self.fail(table, f"{k}.language_codes", f'expected a mapping like {{spa: "001"}}, got {kind(table)}')
            lines: dict[str, int | None] = {}
            for key_node, value_node in table.value:
                entry = f"{k}.language_codes.{key_node.value if isinstance(key_node, ScalarNode) else '?'}"
                canonical = self.language(key_node, entry)
                if canonical in codes:
                    self.fail(key_node, entry, f"{canonical} is given twice (first on line {lines[canonical]})")
                codes[canonical] = self.keys(value_node, entry, "a vendor language code")
                lines[canonical] = line_of(key_node)
        unknown = self.keys(f["unknown_language_code"], f"{k}.unknown_language_code", "the unknown-language code")
        genders = gender_codes(self, f.get("gender_codes"), f"{k}.gender_codes", dtmf, f["dtmf"])
        return Vendor(
            name=name,
            number=number,
            alternate=alternate,
            account=account,
            pin=pin,
            dtmf=dtmf,
            language_codes=codes,
            unknown_language_code=unknown,
            gender_codes=genders,
        )

    def dtmf_template(self, node: Node, key: str) -> str:
        """Only {account} {pin} {language} {gender} and dialable keys, so the sent digits are always valid."""
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
        out: list[User] = []
        names: dict[str, int | None] = {}
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


__all__ = ["ConfigError", "KnownLanguage", "load_roster", "parse_roster"]
