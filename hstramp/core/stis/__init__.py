"""Pure-numpy algorithms of the calstis CCD 2-D stages (``cs1``, ``cs2``).

Arrays in, arrays out; inputs are never modified. Where the logic is the WFC3/IR one, these
modules call the shared cores (:mod:`hstramp.core.noise`, :mod:`hstramp.core.dark`,
:mod:`hstramp.core.flat`, :mod:`hstramp.core.geometry`) instead of repeating them.
"""
