"""The shipped systemd unit (contrib/chatd.service): `systemd-analyze verify` accepts it
without a warning (skipped where systemd-analyze is absent), and it has what the README
promises: notify readiness with a watchdog, reload, ordered stop, restart on failure, its own
user and state directory, and the sandbox."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

UNIT = Path(__file__).resolve().parents[2] / "contrib" / "chatd.service"


class ServiceUnitTest(unittest.TestCase):
    @unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze is not installed")
    def test_systemd_analyze_verify_accepts_it_without_warnings(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            # verify wants the unit's file name; a copy keeps the checkout's path out of it.
            unit = Path(folder) / "chatd.service"
            shutil.copy(UNIT, unit)
            result = subprocess.run(["systemd-analyze", "verify", str(unit)],
                                    capture_output=True, text=True, timeout=60, check=False)
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual("", result.stderr.strip())

    def test_it_has_what_the_readme_promises(self) -> None:
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.optionxform = str
        parser.read(UNIT, encoding="utf-8")
        service = parser["Service"]
        expected = {"Type": "notify", "KillMode": "mixed", "Restart": "on-failure",
                    "DynamicUser": "yes", "StateDirectory": "chatd",
                    "ProtectSystem": "strict", "ProtectHome": "yes", "NoNewPrivileges": "yes",
                    "PrivateTmp": "yes"}
        for key, value in expected.items():
            self.assertEqual(value, service.get(key), key)
        for key in ("WatchdogSec", "ExecReload", "LimitNOFILE", "ExecStart"):
            self.assertTrue(service.get(key), key)
        self.assertIn("-m chatd -c", service["ExecStart"])


if __name__ == "__main__":
    unittest.main()
