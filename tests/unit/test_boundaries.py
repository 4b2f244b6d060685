"""The pure core stays pure: none of its modules imports socket, selectors, sqlite3 or curses,
directly or through another chatd module (STYLE.md section 2). Checked on the source with ast,
so nothing is imported or executed to find out."""

from __future__ import annotations

import ast
import functools
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PURE_MODULES = [
    "ircproto",
    "ircproto.casemap",
    "ircproto.framing",
    "ircproto.message",
    "ircproto.numerics",
    "ircproto.validate",
    "chatd.session.session",
    "chatd.session.local_commands",
    "chatd.session.capabilities",
    "chatd.session.chathistory",  # reads history through an injected reader, never sqlite3
    "chatd.session.labels",
    "chatd.hub.hub",
    "chatd.hub.commands",
    "chatd.hub.registry",
    "chatd.hub.sequencer",
    "chatd.events",
    "chatd.config",
    "chatd.ipc.frames",  # the frame codec; the socket that carries frames is chatd.ipc.pipe
]

FORBIDDEN = {"socket", "_socket", "selectors", "sqlite3", "_sqlite3", "curses", "_curses"}


def module_file(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_in_source(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module the source imports when it runs (imports under `if TYPE_CHECKING:` never
    run and are skipped). `from pkg import name` counts as pkg.name when that is a module."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
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
    # importing chatd.a.b runs chatd/__init__.py and chatd/a/__init__.py first
    for name in list(found):
        parts = name.split(".")
        found.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return found


@functools.lru_cache(maxsize=None)
def imports_of(module: str) -> frozenset[str]:
    path = module_file(module)
    assert path is not None, module
    return frozenset(imports_in_source(path.read_text(encoding="utf-8"), module,
                                       path.name == "__init__.py"))


def forbidden_paths(start: str) -> list[list[str]]:
    """Import chains from `start` to a forbidden module, following chatd.* imports. Each chain
    is the list of module names along the way."""
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
            elif (name.split(".")[0] in ("chatd", "ircproto") and name not in parent
                  and module_file(name) is not None):
                parent[name] = current
                queue.append(name)
    return chains


def chatd_closure(start: str) -> set[str]:
    """Every chatd module that importing `start` runs."""
    seen = {start}
    todo = [start]
    while todo:
        for name in imports_of(todo.pop()):
            if name.split(".")[0] in ("chatd", "ircproto") and name not in seen and module_file(name):
                seen.add(name)
                todo.append(name)
    return seen - {start}


class ScannerTest(unittest.TestCase):
    """The checker itself must see the imports it is meant to catch."""

    def test_detects_imports(self):
        cases = [
            ("import socket", "socket"),
            ("import sqlite3 as db", "sqlite3"),
            ("from selectors import DefaultSelector", "selectors"),
            ("from curses import wrapper", "curses"),
            ("import os, socket", "socket"),
            ("def f():\n    import socket\n", "socket"),
            ("try:\n    import curses\nexcept ImportError:\n    curses = None\n", "curses"),
            ("from chatd import ipc", "chatd.ipc"),
            ("from ircproto import numerics as N", "ircproto.numerics"),
            ("from ircproto.message import parse", "ircproto"),
            ("from . import ipc", "chatd.ipc"),
            ("from .ipc import frames", "chatd.ipc.frames"),
            ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    pass\nelse:\n"
             "    import socket\n", "socket"),
        ]
        for source, name in cases:
            with self.subTest(source=source):
                self.assertIn(name, imports_in_source(source, "chatd.example"))

    def test_type_checking_imports_do_not_run(self):
        source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import socket\n"
        self.assertNotIn("socket", imports_in_source(source, "chatd.example"))

    def test_every_pure_module_exists(self):
        for name in PURE_MODULES:
            with self.subTest(module=name):
                self.assertIsNotNone(module_file(name))

    def test_finds_the_channels_socket(self):
        # chatd.ipc.pipe is the I/O edge next to the pure codec: the walk must flag it.
        chains = forbidden_paths("chatd.ipc.pipe")
        self.assertIn(["chatd.ipc.pipe", "socket"], chains)
        self.assertIn("chatd.ipc.pipe", chatd_closure("chatd.master"))


class BoundaryTest(unittest.TestCase):
    def test_pure_modules_import_no_io_directly(self):
        for name in PURE_MODULES:
            with self.subTest(module=name):
                bad = {m for m in imports_of(name) if m.split(".")[0] in FORBIDDEN}
                self.assertEqual(bad, set())

    def test_pure_modules_import_no_io_through_other_chatd_modules(self):
        for name in PURE_MODULES:
            with self.subTest(module=name):
                chains = forbidden_paths(name)
                self.assertEqual(chains, [], " ; ".join(" -> ".join(c) for c in chains))

    def test_pure_modules_do_not_import_the_io_edges(self):
        edges = {"chatd.ipc.pipe", "chatd.master", "chatd.worker", "chatd.writer",
                 "chatd.store.history", "chatd.processes.children", "chatd.cli"}
        for name in PURE_MODULES:
            with self.subTest(module=name):
                self.assertEqual(chatd_closure(name) & edges, set())


if __name__ == "__main__":
    unittest.main()
