"""Webhooks: endpoints that receive the log's events as signed HTTP POSTs.

:mod:`.model` (endpoints as JSON), :mod:`.safety` (where a webhook may point),
:mod:`.signing` (Standard Webhooks signatures), :mod:`.schedule` (retries),
:mod:`.presets` (Slack and Discord bodies), :mod:`.sender` (one bounded POST),
:mod:`.consumer` (one endpoint's ordered, durable delivery), :mod:`.host` (the consumers
of a process) and :mod:`.service` (what the REST API, the CLI, MCP and the dashboard call).
"""
