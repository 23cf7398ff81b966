"""What the tests share: fixtures, harnesses and the drill kit.

The fixture modules are pytest plugins, loaded by ``pytest_plugins`` in ``tests/conftest.py``;
their helpers are imported by name (``from tests.support.workspace import Workspace``).
``tests.support.drills`` is the drill kit: ``bench/drills`` and the fast drill tests in
``tests/e2e`` run the very same code.
"""
