"""The reference suite's environment: ``interlock.yaml`` (the stack and everything the steps
need to know), ``data/`` (body files, schemas, fixtures) and ``hooks.py`` (behave's hooks:
Interlock's own, which this suite uses as they are)."""
