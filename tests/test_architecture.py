"""The shape of the code, checked: the layers' import rules, no import cycles, small modules.

DESIGN.md's dependency rule points down: the entrypoints (webhooks/, workers/, scripts/,
the launcher) and the composition root (bootstrap.py) sit on top; dispatch/, the domain
with its ports and stores, at the bottom, importing nothing of the service's own outside
itself. These tests read the source (no imports are executed), so a new arrow that breaks
the picture fails here with its file and line.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("adapters", "config", "dispatch", "launcher", "scripts", "simulator", "webhooks", "workers")
TOP_MODULES = ("bootstrap", "gunicorn_worker", "logs", "wsgi")
OURS = PACKAGES + TOP_MODULES + ("bench", "tests")

# Counted on ruff-formatted code (issue 23), which spreads a long call over several lines: the
# limits issue 16 set, on the code as a reader sees it.
MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 250
DATA_TABLES = {
    "dispatch/languages/markers.py": "script ranges and marker words per language, one table per script",
}
# Outside libraries the domain may not use: it talks to the web, the job queue and the phone
# network only through its ports.
NOT_IN_DOMAIN = ("flask", "werkzeug", "rq", "gunicorn", "twilio")
# The domain's stores: the only modules that name Redis keys (dispatch/keys.py).
STORES = {
    "dispatch.api_tokens",
    "dispatch.audit",
    "dispatch.counters",
    "dispatch.bookings",
    "dispatch.calendar_feeds",
    "dispatch.callouts",
    "dispatch.census_store",
    "dispatch.coverage_figures",
    "dispatch.deliveries",
    "dispatch.events",
    "dispatch.heartbeats",
    "dispatch.leases",
    "dispatch.pauses",
    "dispatch.liaisons",
    "dispatch.offer_rounds",
    "dispatch.pin_guard",
    "dispatch.rate_limit",
    "dispatch.rejoin_numbers",
    "dispatch.requests",
    "dispatch.sessions",
    "dispatch.signin_lock",
    "dispatch.sms.pending",
    "adapters.route_inbox",
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # what it imports, dotted (a module, or a name in one)
    line: int

    @property
    def where(self) -> str:
        return f"{self.module.replace('.', '/')}.py:{self.line}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def product_files() -> list[Path]:
    files = [ROOT / f"{name}.py" for name in TOP_MODULES if (ROOT / f"{name}.py").exists()]
    for package in PACKAGES:
        files += sorted((ROOT / package).rglob("*.py"))
    return files


def imports_of(path: Path) -> list[Import]:
    """Every import the file runs, at any depth (a function's late import counts too; one under
    `if TYPE_CHECKING:`, for annotations only, does not). `from a.b import c` names `a.b.c`
    (a submodule, or a name in `a.b`: `resolve` tells)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in _walk_runtime(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [Import(name, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found += [Import(name, f"{base}.{alias.name}", node.lineno) for alias in node.names]
    return found


def _walk_runtime(node: ast.AST) -> Iterator[ast.AST]:
    """ast.walk, leaving out the bodies of `if TYPE_CHECKING:`."""
    yield node
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            for other in child.orelse:
                yield from _walk_runtime(other)
            continue
        yield from _walk_runtime(child)


def resolve(target: str, known: set[str]) -> str | None:
    """The module of ours `target` names (a module, or a name inside one), if any."""
    while target:
        if target in known:
            return target
        target = target.rpartition(".")[0]
    return None


@pytest.fixture(scope="module")
def graph() -> dict[str, list[Import]]:
    files = product_files()
    known = {module_name(p) for p in files}
    edges: dict[str, list[Import]] = defaultdict(list)
    for path in files:
        for imp in imports_of(path):
            target = resolve(imp.target, known)
            if target is not None and target != imp.module:
                edges[imp.module].append(Import(imp.module, target, imp.line))
    return edges


def top(module: str) -> str:
    return module.split(".")[0]


def cycles(nodes: set[str], arrows: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in arrows.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles_between_modules(graph):
    arrows = {m: {i.target for i in imps} for m, imps in graph.items()}
    nodes = set(arrows) | {t for ts in arrows.values() for t in ts}
    assert cycles(nodes, arrows) == []


def test_no_import_cycles_between_packages(graph):
    """The layers: no package both uses another and is used by it."""
    arrows: dict[str, set[str]] = defaultdict(set)
    for module, imps in graph.items():
        arrows[top(module)] |= {top(i.target) for i in imps if top(i.target) != top(module)}
    assert cycles(set(arrows) | {t for ts in arrows.values() for t in ts}, arrows) == []


def test_the_domain_imports_nothing_of_the_service_outside_itself(graph):
    wrong = [
        f"{i.where}: {i.target}"
        for m, imps in graph.items()
        if top(m) == "dispatch"
        for i in imps
        if top(i.target) != "dispatch"
    ]
    assert wrong == []


def test_the_domain_uses_no_web_job_queue_or_phone_library():
    wrong = []
    for path in (ROOT / "dispatch").rglob("*.py"):
        for imp in imports_of(path):
            if top(imp.target) in NOT_IN_DOMAIN:
                wrong.append(f"{imp.where}: {imp.target}")
    assert wrong == []


def test_webhooks_and_workers_do_not_import_each_other(graph):
    wrong = [
        f"{i.where}: {i.target}"
        for m, imps in graph.items()
        for i in imps
        if {top(m), top(i.target)} == {"webhooks", "workers"}
    ]
    assert wrong == []


def test_only_the_stores_name_redis_keys(graph):
    wrong = sorted(
        {f"{i.where}" for m, imps in graph.items() for i in imps if i.target == "dispatch.keys" and m not in STORES}
    )
    assert wrong == []


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines())


def test_no_product_module_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): _lines(p) for p in product_files() if _lines(p) > MAX_MODULE_LINES}
    assert {k: v for k, v in long.items() if k not in DATA_TABLES} == {}


def test_no_class_is_over_250_lines():
    long = {}
    for path in product_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                size = node.end_lineno - node.lineno + 1
                if size > MAX_CLASS_LINES:
                    long[f"{path.relative_to(ROOT)}:{node.name}"] = size
    assert long == {}


def test_test_modules_import_no_other_test_module():
    """Helpers shared by tests live in tests/support; a test module is never a library."""
    wrong = []
    for path in sorted((ROOT / "tests").glob("*.py")):
        for imp in imports_of(path):
            name = imp.target.split(".")
            if name[0] == "tests" and len(name) > 1 and (name[1].startswith("test_") or name[1] == "conftest"):
                wrong.append(f"tests/{path.name}:{imp.line}: {imp.target}")
    assert wrong == []


def test_no_product_code_reads_a_record_field_untyped():
    """RequestRecord.extra holds only fields this version does not know: every field the code
    reads is a typed attribute."""
    wrong = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in product_files()
        for n, text in enumerate(p.read_text().splitlines(), 1)
        if ".extra.get(" in text or ".extra[" in text
    ]
    assert wrong == []


def test_the_rules_see_the_imports_they_check(graph):
    """The graph is not empty by mistake: known arrows of the design are in it."""
    assert "dispatch.states" in {i.target for i in graph["dispatch.records"]}
    assert any(top(i.target) == "bootstrap" for i in graph["webhooks.app"])
