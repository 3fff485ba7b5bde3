"""The Gherkin binding: the only package of Interlock that imports behave.

A suite switches the library on with two lines:

* ``steps/interlock_steps.py``: ``from interlock.behave.steps import *  # noqa: F403``
* ``environment.py``: ``from interlock.behave.hooks import *  # noqa: F403``

Its own domain steps wrap themselves in ``@domain_step`` for clean error messages.
"""

from interlock.behave.binding import domain_step

__all__ = ["domain_step"]
