"""The import rules of the layout (STYLE.md sections 1-2, docs/architecture.md), checked on the
source with ast, so nothing is imported or executed to find out:

- `ircproto` (the pure IRC layer) imports nothing of ours but itself;
- `tui` imports `ircproto` and itself, never `chatd`;
- in `chatd`, a module of one process role (master, worker, writer) imports its own role, the
  shared layers and `ircproto`, never another role; the shared layers import no role; only the
  composition root (`chatd.cli`, `chatd.__main__`) sees every role;
- no import cycle inside a package, `if TYPE_CHECKING:` imports included;
- the pure modules import no socket, selectors, sqlite3 or curses, directly or through another
  module of ours.

The checks are functions of an import graph, and ScannerTest/RulesTest feed them made-up
graphs to show that each rule does catch what it is meant to catch.
"""

from __future__ import annotations

import ast
import functools
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OURS = ("chatd", "tui", "ircproto")

# Process roles of chatd: a module belongs to the role of the longest prefix that matches.
ROLES = {
    "chatd.master": "master", "chatd.hub": "master", "chatd.processes": "master",
    "chatd.worker": "worker", "chatd.session": "worker",
    "chatd.writer": "writer", "chatd.store.schema": "writer", "chatd.store.writes": "writer",
    "chatd.store.meta": "writer", "chatd.store.space": "writer", "chatd.store.bans": "writer",
    "chatd.store.members": "writer", "chatd.store.channels": "writer",
    "chatd.store.search_index": "writer", "chatd.store.tombstones": "writer",
}
# admin: the account command; backup: the backup command (both read or write the history file)
COMPOSITION_ROOT = {"chatd.cli", "chatd.__main__", "chatd.admin", "chatd.backup"}

# Pure: no I/O. Whole packages, plus the shared modules that are pure.
PURE_PACKAGES = ("ircproto", "chatd.hub", "chatd.session")
PURE_MODULES = ("chatd.events", "chatd.multiline", "chatd.stored_channel", "chatd.limits", "chatd.netaddr", "chatd.commandset", "chatd.serverinfo", "chatd.ipc.frames",
                "chatd.search_terms",
                "chatd.config", "chatd.processes.loop_timeout", "chatd.processes.shutdown",
                "chatd.processes.writer_watchdog")
FORBIDDEN = {"socket", "_socket", "selectors", "sqlite3", "_sqlite3", "curses", "_curses"}


def module_file(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def all_modules(package: str) -> list[str]:
    """Every module of one of our packages, by dotted name (packages by their own name)."""
    names = []
    for path in sorted(ROOT.joinpath(*package.split(".")).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_in_source(source: str, module: str, is_package: bool = False,
                      type_checking: bool = False) -> set[str]:
    """The modules the source names in its imports. Imports under `if TYPE_CHECKING:` never
    run: they count only when `type_checking` is true (a cycle through them is still a
    tangle). `from pkg import name` counts as pkg.name when that is one of our modules."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test) and not type_checking:
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.add(target)
            for alias in node.names:
                if module_file(f"{target}.{alias.name}") is not None:
                    found.add(f"{target}.{alias.name}")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source))
    return found


@functools.lru_cache(maxsize=None)
def imports_of(module: str, type_checking: bool = False) -> frozenset[str]:
    """The modules of ours and of the standard library that `module` imports, by name."""
    path = module_file(module)
    assert path is not None, module
    return frozenset(imports_in_source(path.read_text(encoding="utf-8"), module,
                                       path.name == "__init__.py", type_checking))


def is_ours(name: str) -> bool:
    return name.split(".")[0] in OURS


def role_of(module: str) -> str | None:
    """'master', 'worker', 'writer', 'root' (the composition root), 'shared' (the rest of
    chatd), or None outside chatd."""
    if module.split(".")[0] != "chatd":
        return None
    if module in COMPOSITION_ROOT:
        return "root"
    best = max((p for p in ROLES if module == p or module.startswith(p + ".")), key=len,
               default=None)
    return ROLES[best] if best else "shared"


def layering_violations(graph: dict[str, set[str]]) -> list[str]:
    """Each import in `graph` (module -> modules it imports) that breaks a layering rule."""
    problems = []
    for module, imported in sorted(graph.items()):
        top = module.split(".")[0]
        for name in sorted(n for n in imported if is_ours(n)):
            target_top = name.split(".")[0]
            if top == "ircproto" and target_top != "ircproto":
                problems.append(f"{module} -> {name}: ircproto imports nothing of ours")
            elif top == "tui" and target_top == "chatd":
                problems.append(f"{module} -> {name}: the client imports the server")
            elif top == "chatd" and target_top == "tui":
                problems.append(f"{module} -> {name}: the server imports the client")
            elif top == "chatd" and target_top == "chatd" and name != "chatd":
                source_role, target_role = role_of(module), role_of(name)
                if target_role == "root" and source_role != "root":
                    problems.append(f"{module} -> {name}: only the entry point imports cli")
                elif source_role == "shared" and target_role not in ("shared",):
                    problems.append(f"{module} -> {name}: a shared layer imports the "
                                    f"{target_role} role")
                elif (source_role not in ("shared", "root") and target_role != "shared"
                      and target_role != source_role):
                    problems.append(f"{module} -> {name}: the {source_role} role imports the "
                                    f"{target_role} role")
    return problems


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of `graph`: its strongly connected components of more than one
    module, and modules importing themselves (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def module_graph(packages: tuple[str, ...] = OURS, type_checking: bool = True
                 ) -> dict[str, set[str]]:
    """module -> the modules of ours it imports, the packages on the way included (their
    __init__ runs too); a module's own parent packages are left out (they run first anyway,
    and a package importing its own module is no cycle of concern)."""
    graph = {}
    for package in packages:
        for module in all_modules(package):
            imported = set(imports_of(module, type_checking))
            for name in list(imported):  # importing a.b.c runs a/__init__ and a/b/__init__
                parts = name.split(".")
                imported.update(".".join(parts[:i]) for i in range(1, len(parts)))
            graph[module] = {n for n in imported
                             if is_ours(n) and module_file(n) is not None and n != module
                             and not module.startswith(n + ".")}
    return graph


def forbidden_paths(start: str) -> list[list[str]]:
    """Import chains that run from `start` to a forbidden module, following our imports."""
    chains = []
    parent: dict[str, str | None] = {start: None}
    queue = [start]
    while queue:
        current = queue.pop(0)
        for name in sorted(imports_of(current)):
            if name.split(".")[0] in FORBIDDEN:
                chain = [name, current]
                while parent[chain[-1]] is not None:
                    chain.append(parent[chain[-1]])
                chains.append(chain[::-1])
            elif is_ours(name) and name not in parent and module_file(name) is not None:
                parent[name] = current
                queue.append(name)
    return chains


def pure_modules() -> list[str]:
    return [m for p in PURE_PACKAGES for m in all_modules(p)] + list(PURE_MODULES)


class ScannerTest(unittest.TestCase):
    """The scanner sees the imports it must see."""

    def test_detects_imports(self):
        cases = [
            ("import socket", "socket"),
            ("import sqlite3 as db", "sqlite3"),
            ("from selectors import DefaultSelector", "selectors"),
            ("import os, socket", "socket"),
            ("def f():\n    import socket\n", "socket"),
            ("try:\n    import curses\nexcept ImportError:\n    curses = None\n", "curses"),
            ("from chatd.ipc import frames", "chatd.ipc.frames"),
            ("from ircproto import numerics as N", "ircproto.numerics"),
            ("from . import events", "chatd.events"),
            ("from .ipc import frames", "chatd.ipc.frames"),
            ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    pass\nelse:\n"
             "    import socket\n", "socket"),
        ]
        for source, name in cases:
            with self.subTest(source=source):
                self.assertIn(name, imports_in_source(source, "chatd.example"))

    def test_type_checking_imports_count_for_cycles_only(self):
        source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import socket\n"
        self.assertNotIn("socket", imports_in_source(source, "chatd.example"))
        self.assertIn("socket", imports_in_source(source, "chatd.example", type_checking=True))

    def test_finds_the_pipes_socket(self):
        # chatd.ipc.pipe is the I/O edge next to the pure codec: the walk must flag it.
        self.assertIn(["chatd.ipc.pipe", "socket"], forbidden_paths("chatd.ipc.pipe"))

    def test_roles(self):
        cases = [("chatd.master", "master"), ("chatd.hub.registry", "master"),
                 ("chatd.processes.children", "master"), ("chatd.worker", "worker"),
                 ("chatd.session.session", "worker"), ("chatd.writer", "writer"),
                 ("chatd.events", "shared"), ("chatd.ipc.frames", "shared"),
                 ("chatd.store.reader", "shared"), ("chatd.store.writes", "writer"),
                 ("chatd.cli", "root"),
                 ("chatd.masterful", "shared"), ("tui.session", None)]
        for module, role in cases:
            with self.subTest(module=module):
                self.assertEqual(role_of(module), role)


class RulesTest(unittest.TestCase):
    """Each rule catches a made-up violation (so the real checks below can fail)."""

    def test_layering_violations_are_caught(self):
        cases = [
            ({"tui.session": {"chatd.events"}}, "the client imports the server"),
            ({"ircproto.message": {"chatd.config"}}, "ircproto imports nothing of ours"),
            ({"chatd.session.session": {"chatd.hub.commands"}},
             "the worker role imports the master role"),
            ({"chatd.master": {"chatd.worker"}}, "the master role imports the worker role"),
            ({"chatd.writer": {"chatd.session.labels"}},
             "the writer role imports the worker role"),
            ({"chatd.events": {"chatd.hub.registry"}}, "a shared layer imports the master role"),
            ({"chatd.hub.hub": {"chatd.cli"}}, "only the entry point imports cli"),
            ({"chatd.worker": {"chatd.store.writes"}},   # the writer is the only SQLite writer
             "the worker role imports the writer role"),
        ]
        for graph, expected in cases:
            with self.subTest(graph=graph):
                problems = layering_violations(graph)
                self.assertEqual(len(problems), 1, problems)
                self.assertIn(expected, problems[0])

    def test_allowed_imports_are_not_reported(self):
        graph = {"tui.session": {"ircproto.message", "tui.state"},
                 "chatd.session.session": {"chatd.session.labels", "chatd.events",
                                           "ircproto.framing"},
                 "chatd.master": {"chatd.hub.hub", "chatd.ipc.frames", "chatd.processes.children"},
                 "chatd.cli": {"chatd.master", "chatd.worker", "chatd.writer"},
                 "chatd.store.reader": {"chatd.events"}}
        self.assertEqual(layering_violations(graph), [])

    def test_cycles_are_caught(self):
        graph = {"tui.a": {"tui.b"}, "tui.b": {"tui.c"}, "tui.c": {"tui.a"},
                 "tui.d": {"tui.a"}, "tui.e": {"tui.e"}}
        self.assertEqual(cycles(graph), [["tui.a", "tui.b", "tui.c"], ["tui.e"]])
        self.assertEqual(cycles({"tui.a": {"tui.b"}, "tui.b": set()}), [])


class LayoutTest(unittest.TestCase):
    """The real tree follows the rules."""

    def test_no_import_breaks_the_layering(self):
        problems = layering_violations(module_graph(type_checking=True))
        self.assertEqual(problems, [], "\n".join(problems))

    def test_no_import_cycles(self):
        found = cycles(module_graph(type_checking=True))
        self.assertEqual(found, [], "; ".join(" <-> ".join(c) for c in found))

    def test_pure_modules_import_no_io(self):
        for name in pure_modules():
            with self.subTest(module=name):
                chains = forbidden_paths(name)
                self.assertEqual(chains, [], " ; ".join(" -> ".join(c) for c in chains))

    def test_every_listed_module_exists(self):
        for name in [*PURE_MODULES, *ROLES, *COMPOSITION_ROOT]:
            with self.subTest(module=name):
                self.assertIsNotNone(module_file(name))

    def test_every_module_fits_in_one_sitting(self):
        # STYLE.md section 1: one responsibility per module, readable in one sitting.
        for package in OURS:
            for module in all_modules(package):
                with self.subTest(module=module):
                    lines = module_file(module).read_text(encoding="utf-8").count("\n")
                    self.assertLessEqual(lines, 450)


if __name__ == "__main__":
    unittest.main()
