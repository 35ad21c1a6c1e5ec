"""``python -m hstramp.cli`` runs the ``hstramp`` command."""

import sys

from hstramp.cli import command

sys.exit(command())
