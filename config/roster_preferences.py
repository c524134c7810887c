"""The roster's keys for an interpreter preference (issue 17): a liaison's `gender`, and the
vendor's `gender_codes` with the `{gender}` placeholder of its DTMF template.

Read with the same checks (file:line: key: reason) as every other key of the roster.
"""

from __future__ import annotations

from yaml.nodes import MappingNode, Node, ScalarNode

from config.yaml_nodes import NULL_TAG, NodeReader, kind
from dispatch.roster import DTMF_KEYS, GENDERS

GENDER_CODE_KEYS = (*GENDERS, "any")
GENDER_CODE_CHARS = DTMF_KEYS | frozenset("wW")  # a code may carry its own pauses


def liaison_gender(reader: NodeReader, node: Node | None, key: str) -> str:
    """`gender: female|male`, or "" when not given (such a liaison takes no request with a preference)."""
    if node is None:
        return ""
    value = reader.text(node, key).casefold()
    if value not in GENDERS:
        reader.fail(node, key, f"unknown gender {value!r}; use {' or '.join(GENDERS)} (or leave it out)")
    return value


def gender_codes(reader: NodeReader, node: Node | None, key: str, template: str, template_node: Node) -> dict[str, str]:
    """`gender_codes: {female: "1", male: "2", any: ""}`, only with a {gender} in the template
    (and a template with {gender} needs them), so a preference is never sent to nowhere."""
    uses = "{gender}" in template
    if node is None:
        if uses:
            reader.fail(template_node, key.rsplit(".", 1)[0] + ".dtmf", "uses {gender}: give gender_codes too")
        return {}
    if not isinstance(node, MappingNode):
        reader.fail(node, key, f'expected a mapping like {{female: "1", male: "2", any: ""}}, got {kind(node)}')
    if not uses:
        reader.fail(node, key, "the dtmf template has no {gender} placeholder to send these codes with")
    codes: dict[str, str] = {}
    for key_node, value_node in node.value:
        name = key_node.value if isinstance(key_node, ScalarNode) else "?"
        entry = f"{key}.{name}"
        if name not in GENDER_CODE_KEYS:
            reader.fail(key_node, entry, f"unknown key; use {', '.join(GENDER_CODE_KEYS)}")
        if name in codes:
            reader.fail(key_node, entry, "given twice")
        value = value_node.value.strip() if isinstance(value_node, ScalarNode) and value_node.tag != NULL_TAG else ""
        if not isinstance(value_node, ScalarNode):
            reader.fail(value_node, entry, f"expected the keys to send, got {kind(value_node)}")
        if not set(value) <= GENDER_CODE_CHARS:
            reader.fail(value_node, entry, "a gender code can only contain digits, * # and w W (it is sent as DTMF)")
        if not value and name != "any":
            reader.fail(value_node, entry, f"is empty; leave {name} out if the vendor cannot be asked for it")
        codes[name] = value
    return codes
