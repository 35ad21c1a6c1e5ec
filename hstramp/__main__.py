"""``python -m hstramp``: the ``hstramp`` command (see :func:`hstramp.cli.main`)."""

import sys

from hstramp.cli import main

sys.exit(main())
