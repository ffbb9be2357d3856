"""Alert rules over the event log: a pipeline that fires once and resolves honestly.

:mod:`herald.alerts.base` is the JSON-in, JSON-out service the REST API, the CLI, MCP and the
dashboard use; the rules, their state machine and their evaluation live beside it.
"""
