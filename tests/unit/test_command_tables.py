"""chatd/commandset.py is the one table of commands: each command has exactly one handler, on
the side the table says answers it, and the worker's handlers only use what CommandContext
names — which the Session really provides."""

import inspect
import unittest

from chatd.commandset import COMMANDS, MASTER, WORKER, commands_answered_by, gets_automatic_replies
from chatd.hub.commands import GLOBAL_COMMANDS
from chatd.session.context import CommandContext
from chatd.session.local_commands import LOCAL_HANDLERS
from tests.unit.test_session import make_session


class CommandTableTest(unittest.TestCase):
    def test_each_side_has_a_handler_for_exactly_its_commands(self):
        self.assertEqual(set(LOCAL_HANDLERS), commands_answered_by(WORKER))
        self.assertEqual(set(GLOBAL_COMMANDS), commands_answered_by(MASTER))
        self.assertEqual(commands_answered_by(WORKER) | commands_answered_by(MASTER),
                         set(COMMANDS))
        self.assertFalse(commands_answered_by(WORKER) & commands_answered_by(MASTER))

    def test_only_notice_is_never_answered(self):
        self.assertEqual({name for name in COMMANDS if not gets_automatic_replies(name)},
                         {"NOTICE"})
        self.assertTrue(gets_automatic_replies("FOOBAR"))  # unknown commands get 421


class CommandContextTest(unittest.TestCase):
    def test_the_session_provides_every_member_of_the_context(self):
        session = make_session()
        members = [name for name, _ in inspect.getmembers(CommandContext)
                   if not name.startswith("_")]
        self.assertGreater(len(members), 10)
        for name in members:
            with self.subTest(member=name):
                self.assertTrue(hasattr(session, name), name)
                if callable(getattr(CommandContext, name)):
                    self.assertTrue(callable(getattr(session, name)))


if __name__ == "__main__":
    unittest.main()
