"""tui.state_file on a real file system, in a temporary XDG_STATE_HOME: created mode 0600 in a
directory created 0700, one entry per server (the others kept), and a damaged file reported
once and then replaced."""

import os
import stat
import tempfile
import unittest
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

from tui import state_file
from tui.saved_state import SavedBuffer, SavedServer
from tui.state import BufferKind

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
ALICE = SavedServer("alice", T0, "#lobby", (SavedBuffer("#lobby", BufferKind.CHANNEL, "7", T0),))


class StateFileTest(unittest.TestCase):
    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.root = Path(tmp.name)
        patcher = mock.patch.dict(os.environ, {"XDG_STATE_HOME": str(self.root / "state")})
        patcher.start()
        self.addCleanup(patcher.stop)
        old = os.umask(0o022)  # a usual umask: the file must be 0600 anyway
        self.addCleanup(os.umask, old)

    def test_private_and_per_server(self) -> None:
        path = state_file.default_path()
        self.assertEqual(path, self.root / "state" / "tui" / "state.json")
        self.assertEqual(state_file.load(path), ({}, None))  # no file yet: nothing, quietly
        self.assertIsNone(state_file.save(path, "a:1", ALICE))
        self.assertIsNone(state_file.save(path, "b:2", SavedServer("bob")))
        self.assertIsNone(state_file.save(path, "a:1", SavedServer("alice2")))
        self.assertEqual(stat.S_IMODE(path.stat().st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(path.parent.stat().st_mode), 0o700)
        self.assertEqual(state_file.load(path),
                         ({"b:2": SavedServer("bob"), "a:1": SavedServer("alice2")}, None))
        self.assertEqual([p.name for p in path.parent.iterdir()], ["state.json"])

    def test_a_damaged_file_is_told_and_replaced(self) -> None:
        path = state_file.default_path()
        path.parent.mkdir(parents=True)
        path.write_text("{not json", encoding="utf-8")
        servers, warning = state_file.load(path)
        self.assertEqual(servers, {})
        self.assertIn("cannot read", warning)
        self.assertIsNone(state_file.save(path, "a:1", ALICE))
        self.assertEqual(state_file.load(path), ({"a:1": ALICE}, None))

    def test_an_unwritable_place_is_an_error_not_a_crash(self) -> None:
        blocker = self.root / "file"
        blocker.write_text("", encoding="utf-8")
        error = state_file.save(blocker / "state.json", "a:1", ALICE)
        self.assertIsNotNone(error)


if __name__ == "__main__":
    unittest.main()
