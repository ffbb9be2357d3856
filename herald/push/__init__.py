"""Push sources: long-lived upstream connections (Jetstream, any WebSocket feed).

:mod:`herald.push.base` is the contract a platform implements; the runtime that holds the
connections (leases, reconnects, cursors, backpressure) lives beside it.
"""
