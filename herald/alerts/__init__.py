"""Alert rules over the event log: a pipeline that fires once and resolves honestly.

:mod:`herald.alerts.base` is the JSON-in, JSON-out service the REST API, the CLI, MCP and the
dashboard use; the rules (:mod:`.model`), their state machine (:mod:`.machine`) and their
evaluation (:mod:`.evaluator`, run as a pipeline by :mod:`.pipeline`) live beside it, and
:class:`~herald.alerts.service.AlertsManager` implements the service.
"""
