"""Load and validate the language catalog (config/languages.csv) and answer lookups.

The CSV keeps only what langcodes/language_data does not know (keypad, rank, aliases,
vendor code, Twilio voice, hold sentence, endonym overrides); English names and autonyms
come from langcodes. Everything is checked once at load, and a bad row stops the service
at start with ``file:line: reason`` rather than surfacing mid-call.
"""

from __future__ import annotations

import csv
import re
import threading
from pathlib import Path

import langcodes

from dispatch.languages.model import Detection, Language, Resolution

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PATH = REPO_ROOT / "config" / "languages.csv"

COLUMNS = (
    "id",
    "iso639_1",
    "rank",
    "keypad",
    "vendor_code",
    "name",
    "endonym",
    "aliases",
    "codes",
    "twilio_voice",
    "hold_sentence",
    "note",
)
RESERVED_KEYPAD_PREFIXES = ("0", "9")  # 0 = language unknown -> vendor, 9 = urgent

_ID_RE = re.compile(r"^[a-z]{3}(-x-[a-z0-9]{1,8})?$")
_ISO1_RE = re.compile(r"^[a-z]{2}$")
_CODE_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{1,8})*$")
_VOICE_RE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")


class Catalog:
    """Immutable set of languages with precomputed indexes.

    Lookups never raise on odd input: the IVR and SMS layers pass through whatever a
    caller typed or said.
    """

    def __init__(self, languages: tuple[Language, ...], codes: dict[str, Language], source: str = "<memory>") -> None:
        from dispatch.languages.detect import Detector
        from dispatch.languages.resolve import Resolver

        self.source = source
        self._all = tuple(sorted(languages, key=lambda lang: lang.rank))
        self._codes = dict(codes)
        self._keypad = {lang.keypad: lang for lang in self._all}
        self._resolver = Resolver(self._all, self._codes, self._keypad)
        self._detector = Detector(self)

    def __len__(self) -> int:
        return len(self._all)

    def __iter__(self):
        return iter(self._all)

    def get(self, key: str) -> Language | None:
        """By id, ISO 639-3 or 639-1 code (or an extra code from the CSV), any case."""
        if not isinstance(key, str) or len(key) > 24:
            return None
        return self._codes.get(key.strip().lower().replace("_", "-"))

    def by_keypad(self, digits: str) -> Language | None:
        """The language behind a keypad code; a trailing '#' is tolerated."""
        if not isinstance(digits, str):
            return None
        return self._keypad.get(digits.strip().rstrip("#").strip())

    def all(self) -> tuple[Language, ...]:
        """Every language, most requested first."""
        return self._all

    def top(self, n: int) -> tuple[Language, ...]:
        """The `n` most requested languages (for IVR menus and the card)."""
        return self._all[: max(0, n)]

    def resolve(self, text: str) -> Resolution:
        """What a keypad entry, typed text or speech result names; see resolve.py."""
        return self._resolver.resolve(text)

    def detect(self, text: str) -> Detection:
        """Which language a free text is written in; see detect.py."""
        return self._detector.detect(text)


def _fail(path: Path | str, line: int, reason: str) -> ValueError:
    return ValueError(f"{path}:{line}: {reason}")


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split("|") if part.strip()]


def _langcodes_names(iso3: str) -> tuple[str, str, str | None] | None:
    """English name, autonym and ISO 639-1 code that langcodes knows for `iso3`."""
    tag = langcodes.Language.get(iso3)
    name = tag.display_name()
    if not tag.is_valid() or name.startswith("Unknown language"):
        return None
    iso1 = None
    # langcodes folds some codes into others (prs -> fa, cnr -> sr, tgl -> fil): only
    # take its 2-letter code when it stands for this very language.
    if len(tag.language or "") == 2 and tag.to_alpha3() == iso3:
        iso1 = tag.language
    return name, tag.autonym(), iso1


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Read and validate a catalog file; raise ValueError("file:line: reason") on bad data."""
    path = Path(path) if path is not None else DEFAULT_PATH
    text = path.read_text(encoding="utf-8")
    # Comment lines are blanked, not removed, so csv's line numbers stay the file's.
    lines = ["" if ln.lstrip().startswith("#") else ln for ln in text.splitlines()]
    reader = csv.reader(lines)
    header: list[str] | None = None
    header_line = 0
    languages: list[Language] = []
    codes: dict[str, Language] = {}
    code_lines: dict[str, int] = {}
    seen: dict[str, dict[str, int]] = {"id": {}, "rank": {}, "keypad": {}, "vendor_code": {}}

    for row in reader:
        line = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        if header is None:
            header = [cell.strip() for cell in row]
            header_line = line
            if tuple(header) != COLUMNS:
                raise _fail(path, line, f"header must be {','.join(COLUMNS)}; got {','.join(header)}")
            continue
        if len(row) != len(COLUMNS):
            raise _fail(path, line, f"expected {len(COLUMNS)} cells, got {len(row)}")
        cell = dict(zip(COLUMNS, (c.strip() for c in row)))
        lang = _parse_row(path, line, cell)

        for key in ("id", "keypad", "vendor_code"):
            value = getattr(lang, key)
            if value in seen[key]:
                raise _fail(path, line, f"duplicate {key} {value!r} (first on line {seen[key][value]})")
            seen[key][value] = line
        if str(lang.rank) in seen["rank"]:
            raise _fail(path, line, f"duplicate rank {lang.rank} (first on line {seen['rank'][str(lang.rank)]})")
        seen["rank"][str(lang.rank)] = line

        own_codes = [lang.id]
        if "-x-" not in lang.id:
            own_codes.append(lang.iso639_3)
        if lang.iso639_1:
            own_codes.append(lang.iso639_1)
        own_codes += [c.lower() for c in _split(cell["codes"])]
        for code in own_codes:
            if not _CODE_RE.match(code):
                raise _fail(path, line, f"bad code {code!r} in codes")
            other = codes.get(code)
            if other is not None and other.id != lang.id:
                raise _fail(path, line, f"code {code!r} already belongs to {other.id} (line {code_lines[code]})")
            codes[code] = lang
            code_lines.setdefault(code, line)
        languages.append(lang)

    if header is None:
        raise _fail(path, 1, "no header row")
    if not languages:
        raise _fail(path, header_line, "no languages listed")
    return Catalog(tuple(languages), codes, source=str(path))


def _parse_row(path: Path, line: int, cell: dict[str, str]) -> Language:
    """One CSV row -> Language, deriving blanks from langcodes."""
    lang_id = cell["id"]
    if not _ID_RE.match(lang_id):
        raise _fail(path, line, f"bad id {lang_id!r}: want an ISO 639-3 code or <iso639-3>-x-<variety>")
    iso3 = lang_id.split("-x-")[0]
    known = _langcodes_names(iso3)
    if known is None:
        raise _fail(path, line, f"unknown ISO 639-3 code {iso3!r}")
    lc_name, lc_autonym, lc_iso1 = known

    iso1_cell = cell["iso639_1"]
    if iso1_cell == "-":
        iso1 = None
    elif iso1_cell:
        if not _ISO1_RE.match(iso1_cell):
            raise _fail(path, line, f"bad iso639_1 {iso1_cell!r}: want two lowercase letters or '-'")
        iso1 = iso1_cell
    else:
        iso1 = lc_iso1 if "-x-" not in lang_id else None

    try:
        rank = int(cell["rank"])
    except ValueError:
        raise _fail(path, line, f"rank {cell['rank']!r} is not a whole number") from None
    if rank < 1:
        raise _fail(path, line, f"rank {rank} must be 1 or more")

    keypad = cell["keypad"]
    if not keypad.isdigit() or not keypad.isascii() or not 1 <= len(keypad) <= 3:
        raise _fail(path, line, f"keypad {keypad!r} must be 1 to 3 digits")
    if keypad.startswith(RESERVED_KEYPAD_PREFIXES):
        raise _fail(path, line, f"keypad {keypad!r} starts with a reserved digit (0 = unknown, 9 = urgent)")

    vendor = cell["vendor_code"]
    if not vendor.isdigit() or not vendor.isascii():
        raise _fail(path, line, f"vendor_code {vendor!r} must be digits")

    voice = cell["twilio_voice"] or None
    hold = cell["hold_sentence"] or None
    if voice is not None and not _VOICE_RE.match(voice):
        raise _fail(path, line, f"twilio_voice {voice!r} is not a locale like es-US")
    if voice is not None and hold is None:
        raise _fail(path, line, f"twilio_voice {voice} set but hold_sentence is empty")
    if hold is not None and voice is None:
        raise _fail(path, line, "hold_sentence given but twilio_voice is empty (nobody could speak it)")

    name = cell["name"] or lc_name
    endonym = cell["endonym"] or lc_autonym
    aliases: list[str] = []
    for alias in _split(cell["aliases"]) + [lc_name, lc_autonym]:
        if alias not in aliases and alias not in (name, endonym):
            aliases.append(alias)

    return Language(
        id=lang_id,
        iso639_3=iso3,
        iso639_1=iso1,
        name=name,
        endonym=endonym,
        aliases=tuple(aliases),
        keypad=keypad,
        vendor_code=vendor,
        twilio_voice=voice,
        hold_sentence=hold,
        rank=rank,
    )


_default: Catalog | None = None
_default_lock = threading.Lock()


def default_catalog() -> Catalog:
    """The catalog from config/languages.csv, loaded once per process."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = load_catalog()
    return _default
