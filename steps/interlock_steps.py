"""Switches on Interlock's step library (every sentence of STEPS.md)."""

from interlock.behave.steps import *  # noqa: F403
