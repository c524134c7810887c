"""Reading YAML as a node graph, so every value a configuration file gives keeps its line.

`NodeReader` holds the checks every section of a file needs (a mapping's known fields, text,
lists, phone numbers used once, DTMF keys, catalog languages); each raises ConfigError with
the file, the line, the dotted key and the reason, the message an operator acts on.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import NoReturn

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from config.errors import ConfigError
from dispatch.phone import to_e164
from dispatch.roster import DTMF_KEYS

KnownLanguage = Callable[[str], str | None]
"""Maps a code or name from a file to the catalog's canonical id, or None if unknown."""

NULL_TAG = "tag:yaml.org,2002:null"
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def compose(text: str, path: str) -> Node | None:
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


def line_of(node: Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None and node.start_mark is not None else None


def join(parent: str | None, name: str) -> str:
    return f"{parent}.{name}" if parent else name


def kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping (key: value lines)"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == NULL_TAG:
        return "nothing"
    return f"the value {node.value!r}"


class NodeReader:
    """The checks of single values; the first problem found is raised."""

    def __init__(self, path: str, known_language: KnownLanguage, region: str) -> None:
        self.path = path
        self.known_language = known_language
        self.region = region
        self.numbers: dict[str, tuple[str, int | None]] = {}  # e164 -> (key, line) first seen

    # ------------------------------------------------------------------ primitives
    def fail(self, node: Node | None, key: str | None, reason: str) -> NoReturn:
        raise ConfigError(self.path, line_of(node), key, reason)

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
            self.fail(node, key, f"expected a mapping of {what}s ({', '.join(allowed)}), got {kind(node)}")
        found: dict[str, Node] = {}
        key_lines: dict[str, int | None] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.fail(key_node, key, f"a {what} name must be plain text, got {kind(key_node)}")
            name = key_node.value
            if name == "<<":
                self.fail(key_node, key, "YAML merge keys (<<) are not supported; write the fields out")
            if refused and name in refused:
                self.fail(key_node, join(key, name), refused[name])
            if name in found:
                self.fail(key_node, join(key, name), f"given twice (first on line {key_lines[name]})")
            if name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.fail(key_node, join(key, name), f"unknown {what}{hint}; expected {', '.join(allowed)}")
            found[name] = value_node
            key_lines[name] = line_of(key_node)
        for name in required:
            if name not in found:
                line_node = None if key is None else node  # a missing top-level section has no line
                self.fail(line_node, join(key, name), f"required {what} missing")
        return {name: value for name, value in found.items() if value.tag != NULL_TAG or name in required}

    def text(self, node: Node, key: str) -> str:
        """A scalar's source text, so ``pin: 0750`` stays "0750" and ``no`` stays "no"."""
        if not isinstance(node, ScalarNode):
            self.fail(node, key, f"expected text, got {kind(node)}")
        if node.tag == NULL_TAG or not node.value.strip():
            self.fail(node, key, "is empty")
        return node.value.strip()

    def items(self, node: Node, key: str, what: str, single_ok: bool = False, min_items: int = 0) -> list[Node]:
        """A list's item nodes; `single_ok` also accepts one bare value (``duty: always``)."""
        if isinstance(node, SequenceNode):
            items = list(node.value)
        elif single_ok and isinstance(node, ScalarNode) and node.tag != NULL_TAG:
            items = [node]
        else:
            self.fail(node, key, f"expected a list of {what}, got {kind(node)}")
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
        self.numbers[e164] = (key, line_of(node))
        return e164

    def unique(self, seen: dict[str, int | None], value: str, node: Node, key: str, what: str) -> str:
        if value in seen:
            self.fail(node, key, f"duplicate {what} {value!r} (first on line {seen[value]})")
        seen[value] = line_of(node)
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
