"""WFC3/IR data-quality flags, re-exported from :mod:`hstramp.core.dqflags` (their home).

Kept so that ``from hstramp.datamodels import dqflags`` and
``from hstramp.datamodels.dqflags import ...`` keep working; new code imports
:mod:`hstramp.core.dqflags`.
"""

from hstramp.core.dqflags import *  # noqa: F403  (every public name, as listed in its __all__)
from hstramp.core.dqflags import __all__  # noqa: F401
