"""Prometheus metrics, defined once and shared by every layer.

They live in their own registry so several Herald instances in one test process do not
collide with the default global one, and so ``/metrics`` shows herald's figures only.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

POLLS = Counter(
    "herald_polls", "Polls run, by stream type and outcome", ["type", "outcome"], registry=REGISTRY
)
POLL_DURATION = Histogram(
    "herald_poll_duration_seconds",
    "Wall time of one poll (fetch, parse, diff, append)",
    ["type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
POLL_ERRORS = Counter(
    "herald_poll_errors", "Failed polls, by error kind", ["kind"], registry=REGISTRY
)
EVENTS = Counter(
    "herald_events", "Events appended to the log, by event type", ["type"], registry=REGISTRY
)
ACTIVE_STREAMS = Gauge("herald_active_streams", "Streams with status active", registry=REGISTRY)
SCHEDULE_LAG = Histogram(
    "herald_schedule_lag_seconds",
    "Actual poll start minus planned start",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10),
    registry=REGISTRY,
)
CONNECTED_CLIENTS = Gauge(
    "herald_connected_clients",
    "Connected real-time clients, by transport",
    ["transport"],
    registry=REGISTRY,
)
DELIVERED = Counter(
    "herald_deliveries", "Events handed to clients, by transport", ["transport"], registry=REGISTRY
)
SLOW_CLIENT_DISCONNECTS = Counter(
    "herald_slow_client_disconnects",
    "Clients cut off for falling behind",
    ["transport"],
    registry=REGISTRY,
)
PUSH_FRAMES = Counter(
    "herald_push_frames",
    "Frames read from push connections, by connection key",
    ["connection"],
    registry=REGISTRY,
)
PUSH_LAG = Gauge(
    "herald_push_lag_seconds",
    "How far a push connection's last batch was behind its upstream (or its own buffer)",
    ["connection"],
    registry=REGISTRY,
)
PUSH_BUFFERED = Gauge(
    "herald_push_buffered_frames",
    "Frames read but not yet appended, per push connection (bounded by HERALD_PUSH_BUFFER)",
    ["connection"],
    registry=REGISTRY,
)
PUSH_CONNECTED = Gauge(
    "herald_push_connected",
    "1 while this process holds a push connection open",
    ["connection"],
    registry=REGISTRY,
)
PUSH_RECONNECTS = Counter(
    "herald_push_reconnects",
    "Push connections reopened, by connection key and reason",
    ["connection", "reason"],
    registry=REGISTRY,
)
WEBHOOK_ATTEMPTS = Counter(
    "herald_webhook_attempts",
    "Webhook delivery attempts by the ordered consumers, by outcome (delivered, failed)",
    ["outcome"],
    registry=REGISTRY,
)
WEBHOOK_LATENCY = Histogram(
    "herald_webhook_latency_seconds",
    "Wall time of one webhook attempt (resolve, connect if needed, send, answer)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
BROWSER_LAUNCHES = Counter(
    "herald_browser_launches",
    "Chromium browsers started by the pool (start, or restart after one died)",
    ["reason"],
    registry=REGISTRY,
)
BROWSER_PAGES = Counter(
    "herald_browser_pages", "Pages the browser pool served (opened and closed)", registry=REGISTRY
)
BROWSER_BLOCKED = Counter(
    "herald_browser_blocked_requests",
    "Image, media and font requests the browser pool blocked",
    registry=REGISTRY,
)
BROWSER_OPEN = Gauge("herald_browser_browsers", "Browsers the pool holds open", registry=REGISTRY)
BROWSER_OPEN_PAGES = Gauge(
    "herald_browser_open_pages", "Pages open in the pool's browsers", registry=REGISTRY
)
X_FETCH_PATH = Counter(
    "herald_x_fetch_path",
    "X polls by the path that served them (graphql or browser)",
    ["path"],
    registry=REGISTRY,
)
ARCHIVED = Counter(
    "herald_archived_events",
    "Events written to the archive by this process (new eventIds only)",
    registry=REGISTRY,
)
ARCHIVE_LAG = Gauge(
    "herald_archive_lag_entries",
    "Entries of the global log the archive writer has not read yet",
    registry=REGISTRY,
)
ARCHIVE_WRITING = Gauge(
    "herald_archive_writing",
    "1 while this process holds the archive writer's lease",
    registry=REGISTRY,
)
