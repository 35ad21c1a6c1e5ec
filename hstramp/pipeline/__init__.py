"""Pipelines composing the steps."""
