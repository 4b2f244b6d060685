"""A temporary HOME for a test of the files tui keeps there: HOME pointed at a fresh folder
(removed at cleanup), the XDG variables that would override it unset, and a usual umask (022)
so that a file's own mode is what is checked."""

from __future__ import annotations

import os
import tempfile
import unittest
from pathlib import Path
from unittest import mock


def temporary_home(testcase: unittest.TestCase) -> Path:
    tmp = tempfile.TemporaryDirectory()
    testcase.addCleanup(tmp.cleanup)
    home = Path(tmp.name)
    patcher = mock.patch.dict(os.environ, {"HOME": str(home)})
    patcher.start()
    testcase.addCleanup(patcher.stop)
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        os.environ.pop(name, None)
    old = os.umask(0o022)
    testcase.addCleanup(os.umask, old)
    return home
