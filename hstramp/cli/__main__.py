"""``python -m hstramp.cli`` runs the ``hstramp`` command."""

import sys

from hstramp.cli import main

sys.exit(main())
