"""The STIS CCD steps (calstis's 2-D stages), one module per stage; ``common`` holds what they
share. Thin over :mod:`hstramp.core.stis`, like the WFC3/IR steps over :mod:`hstramp.core`."""
