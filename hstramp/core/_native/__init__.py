"""Compiled kernels (C, built by ``setup.py``; optional).

Use them through :mod:`hstramp.core.native`, never directly.
"""
