"""HTTP stubs: services the system calls but a suite cannot run, declared in the stack file
(``kind: stub``) and programmed per scenario.

``server.py`` is the stub server (werkzeug; it imports nothing of Interlock, so it also runs
as a file in a container); ``stub.py`` is the test's side: ``Stub.answer``, ``received``,
``reset``, and ``Received``, one request it got.
"""

from interlock.stubs.stub import Received, ServedStub, Stub, serve_in_thread

__all__ = ["Received", "ServedStub", "Stub", "serve_in_thread"]
