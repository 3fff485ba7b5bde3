"""The Gherkin binding: the only package of Interlock that imports behave.

A suite switches the library on with two lines:

* ``steps/interlock_steps.py``: ``from interlock.behave.steps import *  # noqa: F403``
* ``environment.py``: ``from interlock.behave.hooks import *  # noqa: F403``
"""
