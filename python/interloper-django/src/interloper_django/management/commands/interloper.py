"""``manage.py interloper lint [ARGS…]``: ``interloper lint`` with this project's settings.

It runs the interloper binary (INTERLOPER_BINARY, else ``interloper`` on PATH) with
``--manage`` pointing at this project's manage.py and ``--python`` at this Python, so the lint
reads the real STATIC_ROOT, STORAGES and manifest; further arguments (``--nginx-t``,
``--json``, …) are passed on. Its exit status is interloper's.
"""

import os
import subprocess
import sys

from django.core.management.base import BaseCommand

from ... import conf


class Command(BaseCommand):
    help = "Run `interloper lint` with this project's settings (extra arguments are passed on)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["lint"])
        parser.add_argument("args", nargs="*", help="passed to `interloper lint`")

    def run_from_argv(self, argv):
        # Everything after `lint` belongs to interloper, dashes included.
        if len(argv) >= 3 and argv[2] == "lint":
            self._lint(argv[0], argv[3:])
            return
        super().run_from_argv(argv)

    def handle(self, *args, **options):
        self._lint(sys.argv[0], list(args))

    def _lint(self, manage, extra):
        manage = os.path.abspath(manage)
        command = [conf.binary(), "lint", "--manage", manage, "--python", sys.executable]
        command += extra
        try:
            status = subprocess.call(command, env=os.environ.copy())
        except OSError as e:
            # One line, as Django prints a CommandError, and interloper's usage status.
            self.stderr.write(
                "CommandError: cannot run %s (%s): install interloper or set INTERLOPER_BINARY"
                % (command[0], e.strerror or e)
            )
            sys.exit(2)
        sys.exit(status)
