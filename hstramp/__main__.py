"""``python -m hstramp``: the ``hstramp`` command (see :func:`hstramp.cli.command`)."""

import sys

from hstramp.cli import command

sys.exit(command())
