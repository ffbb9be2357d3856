"""Settings from environment variables and CLI flags.

Every knob herald has lives here, with its environment name beside it, so that
`docs/configuration.md` and the code cannot drift apart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from herald.errors import ConfigError


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    """Runtime configuration. Field names are the Python names; aliases are the env vars."""

    model_config = SettingsConfigDict(
        env_prefix="",
        populate_by_name=True,
        extra="ignore",
        case_sensitive=False,
    )

    # --- storage -----------------------------------------------------------------
    redis_url: str | None = Field(default=None, validation_alias=_env("REDIS_URL", "redis_url"))
    redis_host: str | None = Field(default=None, validation_alias=_env("REDIS_HOST", "redis_host"))
    redis_port: int = Field(
        default=6379, ge=1, le=65535, validation_alias=_env("REDIS_PORT", "redis_port")
    )
    redis_password: str | None = Field(
        default=None, validation_alias=_env("REDIS_PASSWORD", "redis_password")
    )
    data_dir: Path = Field(
        default=Path(".herald"), validation_alias=_env("HERALD_DATA_DIR", "data_dir")
    )
    redis_prefix: str = Field(
        default="herald", validation_alias=_env("HERALD_REDIS_PREFIX", "redis_prefix")
    )
    state_ttl: int = Field(
        default=7 * 24 * 3600, ge=60, validation_alias=_env("HERALD_STATE_TTL", "state_ttl")
    )
    history_size: int = Field(
        default=1000, ge=1, validation_alias=_env("HERALD_HISTORY_SIZE", "history_size")
    )
    log_maxlen: int = Field(
        default=100_000, ge=100, validation_alias=_env("HERALD_LOG_MAXLEN", "log_maxlen")
    )

    # --- streams and polling -----------------------------------------------------
    min_interval: float = Field(
        default=15, gt=0, validation_alias=_env("HERALD_MIN_INTERVAL", "min_interval")
    )
    max_interval: float = Field(
        default=3600, gt=0, validation_alias=_env("HERALD_MAX_INTERVAL", "max_interval")
    )
    default_interval: float = Field(
        default=60, gt=0, validation_alias=_env("HERALD_DEFAULT_INTERVAL", "default_interval")
    )
    poll_timeout: float = Field(
        default=30, gt=0, validation_alias=_env("HERALD_POLL_TIMEOUT", "poll_timeout")
    )
    max_errors: int = Field(
        default=10, ge=1, validation_alias=_env("HERALD_MAX_ERRORS", "max_errors")
    )
    max_backoff: float = Field(
        default=900, gt=0, validation_alias=_env("HERALD_MAX_BACKOFF", "max_backoff")
    )
    jitter: float = Field(
        default=0.05, ge=0, le=0.5, validation_alias=_env("HERALD_JITTER", "jitter")
    )
    seen_limit: int = Field(
        default=5000, ge=100, validation_alias=_env("HERALD_SEEN_LIMIT", "seen_limit")
    )
    follower_snapshot_limit: int = Field(
        default=1000,
        ge=0,
        validation_alias=_env("HERALD_FOLLOWER_SNAPSHOT_LIMIT", "follower_snapshot_limit"),
    )
    max_pages: int = Field(
        default=5, ge=1, le=50, validation_alias=_env("HERALD_MAX_PAGES", "max_pages")
    )
    follower_resync_polls: int = Field(
        default=10,
        ge=1,
        le=10_000,
        validation_alias=_env("HERALD_FOLLOWER_RESYNC_POLLS", "follower_resync_polls"),
    )
    worker_concurrency: int = Field(
        default=50, ge=1, validation_alias=_env("HERALD_WORKER_CONCURRENCY", "worker_concurrency")
    )
    reconcile_interval: float = Field(
        default=10, gt=0, validation_alias=_env("HERALD_RECONCILE_INTERVAL", "reconcile_interval")
    )
    worker_heartbeat_ttl: float = Field(
        default=5,
        ge=0.5,
        validation_alias=_env("HERALD_WORKER_HEARTBEAT_TTL", "worker_heartbeat_ttl"),
    )
    sweep_interval: float = Field(
        default=1, gt=0, le=60, validation_alias=_env("HERALD_SWEEP_INTERVAL", "sweep_interval")
    )
    shutdown_timeout: int = Field(
        default=10,
        ge=0,
        le=600,
        validation_alias=_env("HERALD_SHUTDOWN_TIMEOUT", "shutdown_timeout"),
    )

    # --- pipelines ----------------------------------------------------------------
    pipelines: str | None = Field(
        default=None, validation_alias=_env("HERALD_PIPELINES", "pipelines")
    )
    pipeline_batch: int = Field(
        default=500,
        ge=1,
        le=10_000,
        validation_alias=_env("HERALD_PIPELINE_BATCH", "pipeline_batch"),
    )
    pipeline_lease_ttl: float = Field(
        default=5,
        ge=0.5,
        le=600,
        validation_alias=_env("HERALD_PIPELINE_LEASE_TTL", "pipeline_lease_ttl"),
    )
    pipeline_skew: float = Field(
        default=10, ge=0, le=86_400, validation_alias=_env("HERALD_PIPELINE_SKEW", "pipeline_skew")
    )
    pipeline_dead_letters: int = Field(
        default=1000,
        ge=1,
        le=1_000_000,
        validation_alias=_env("HERALD_PIPELINE_DEAD_LETTERS", "pipeline_dead_letters"),
    )

    # --- alerts -------------------------------------------------------------------
    alerts: bool = Field(default=True, validation_alias=_env("HERALD_ALERTS", "alerts"))
    alerts_block: float = Field(
        default=0.25,
        ge=0.05,
        le=10,
        validation_alias=_env("HERALD_ALERTS_BLOCK", "alerts_block"),
    )

    # --- webhooks -------------------------------------------------------------------
    webhooks: bool = Field(default=True, validation_alias=_env("HERALD_WEBHOOKS", "webhooks"))
    webhooks_allow_private: bool = Field(
        default=False,
        validation_alias=_env("HERALD_WEBHOOKS_ALLOW_PRIVATE", "webhooks_allow_private"),
    )
    webhooks_schedule: str = Field(
        default="0,5,300,1800,7200,18000,36000,36000",
        validation_alias=_env("HERALD_WEBHOOKS_SCHEDULE", "webhooks_schedule"),
    )
    webhooks_jitter: float = Field(
        default=0.1,
        ge=0,
        le=0.5,
        validation_alias=_env("HERALD_WEBHOOKS_JITTER", "webhooks_jitter"),
    )
    webhooks_connect_timeout: float = Field(
        default=5,
        gt=0,
        le=60,
        validation_alias=_env("HERALD_WEBHOOKS_CONNECT_TIMEOUT", "webhooks_connect_timeout"),
    )
    webhooks_timeout: float = Field(
        default=15,
        gt=0,
        le=300,
        validation_alias=_env("HERALD_WEBHOOKS_TIMEOUT", "webhooks_timeout"),
    )
    webhooks_max_response: int = Field(
        default=64 * 1024,
        ge=0,
        le=16 * 1024 * 1024,
        validation_alias=_env("HERALD_WEBHOOKS_MAX_RESPONSE", "webhooks_max_response"),
    )
    webhooks_lease_ttl: float = Field(
        default=10,
        ge=0.5,
        le=600,
        validation_alias=_env("HERALD_WEBHOOKS_LEASE_TTL", "webhooks_lease_ttl"),
    )
    webhooks_attempts_kept: int = Field(
        default=100,
        ge=1,
        le=10_000,
        validation_alias=_env("HERALD_WEBHOOKS_ATTEMPTS_KEPT", "webhooks_attempts_kept"),
    )

    # --- archive -------------------------------------------------------------------
    archive_url: str | None = Field(
        default=None, validation_alias=_env("HERALD_ARCHIVE_URL", "archive_url")
    )
    archive_retention_days: float = Field(
        default=90,
        ge=0,
        le=36_500,
        validation_alias=_env("HERALD_ARCHIVE_RETENTION_DAYS", "archive_retention_days"),
    )
    archive_batch: int = Field(
        default=1000,
        ge=1,
        le=50_000,
        validation_alias=_env("HERALD_ARCHIVE_BATCH", "archive_batch"),
    )
    archive_purge_interval: float = Field(
        default=3600,
        ge=1,
        le=7 * 86_400,
        validation_alias=_env("HERALD_ARCHIVE_PURGE_INTERVAL", "archive_purge_interval"),
    )

    # --- push sources ---------------------------------------------------------------
    push_lease_ttl: float = Field(
        default=5,
        ge=0.5,
        le=600,
        validation_alias=_env("HERALD_PUSH_LEASE_TTL", "push_lease_ttl"),
    )
    push_check_interval: float = Field(
        default=1,
        ge=0.05,
        le=60,
        validation_alias=_env("HERALD_PUSH_CHECK_INTERVAL", "push_check_interval"),
    )
    push_buffer: int = Field(
        default=2000,
        ge=1,
        le=1_000_000,
        validation_alias=_env("HERALD_PUSH_BUFFER", "push_buffer"),
    )
    push_batch: int = Field(
        default=500,
        ge=1,
        le=100_000,
        validation_alias=_env("HERALD_PUSH_BATCH", "push_batch"),
    )
    push_backoff: float = Field(
        default=1,
        ge=0.01,
        le=600,
        validation_alias=_env("HERALD_PUSH_BACKOFF", "push_backoff"),
    )
    push_max_backoff: float = Field(
        default=60,
        ge=0.01,
        le=3600,
        validation_alias=_env("HERALD_PUSH_MAX_BACKOFF", "push_max_backoff"),
    )
    push_connect_timeout: float = Field(
        default=15,
        gt=0,
        le=600,
        validation_alias=_env("HERALD_PUSH_CONNECT_TIMEOUT", "push_connect_timeout"),
    )

    # --- server and delivery -----------------------------------------------------
    host: str = Field(default="127.0.0.1", validation_alias=_env("HERALD_HOST", "host"))
    port: int = Field(default=3001, ge=1, le=65535, validation_alias=_env("HERALD_PORT", "port"))
    heartbeat_interval: float = Field(
        default=15, gt=0, validation_alias=_env("HERALD_HEARTBEAT_INTERVAL", "heartbeat_interval")
    )
    idle_timeout: float = Field(
        default=1800, gt=0, validation_alias=_env("HERALD_IDLE_TIMEOUT", "idle_timeout")
    )
    client_queue: int = Field(
        default=1000, ge=1, validation_alias=_env("HERALD_CLIENT_QUEUE", "client_queue")
    )
    max_connections: int = Field(
        default=20_000,
        ge=1,
        le=1_000_000,
        validation_alias=_env("HERALD_MAX_CONNECTIONS", "max_connections"),
    )
    max_connections_per_address: int = Field(
        default=20_000,
        ge=1,
        le=1_000_000,
        validation_alias=_env("HERALD_MAX_CONNECTIONS_PER_ADDRESS", "max_connections_per_address"),
    )
    presence_interval: float = Field(
        default=5,
        gt=0,
        le=60,
        validation_alias=_env("HERALD_PRESENCE_INTERVAL", "presence_interval"),
    )
    max_body_bytes: int = Field(
        default=64 * 1024, ge=1024, validation_alias=_env("HERALD_MAX_BODY", "max_body_bytes")
    )
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=_env("HERALD_API_KEYS", "api_keys")
    )
    read_api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=_env("HERALD_READ_API_KEYS", "read_api_keys")
    )
    """Keys that may read every stream and subscribe, and change nothing (docs/auth.md)."""
    jwt_secret: str | None = Field(
        default=None, validation_alias=_env("HERALD_JWT_SECRET", "jwt_secret")
    )
    #: gRPC (``herald.v1.Herald``) on this port, on the HTTP server's host; off when unset.
    grpc_port: int | None = Field(
        default=None, ge=0, le=65535, validation_alias=_env("HERALD_GRPC_PORT", "grpc_port")
    )
    grpc_keepalive: float = Field(
        default=30,
        ge=0,
        validation_alias=_env("HERALD_GRPC_KEEPALIVE", "grpc_keepalive"),
    )
    """Seconds between the gRPC server's HTTP/2 pings on each connection; 0: none. A client
    whose network was cut (no FIN ever comes) is found by the ping it never answers."""
    grpc_keepalive_timeout: float = Field(
        default=10,
        gt=0,
        validation_alias=_env("HERALD_GRPC_KEEPALIVE_TIMEOUT", "grpc_keepalive_timeout"),
    )
    """Seconds a ping may go unanswered before its connection, and every call on it, ends."""

    # --- X source ------------------------------------------------------------------
    session_cookie: str | None = Field(
        default=None,
        validation_alias=_env("HERALD_SESSION_COOKIE", "XACTIONS_SESSION_COOKIE", "session_cookie"),
    )
    x_base_url: str = Field(
        default="https://x.com", validation_alias=_env("HERALD_X_BASE_URL", "x_base_url")
    )
    mastodon_page_size: int = Field(
        default=40,
        ge=1,
        le=40,
        validation_alias=_env("HERALD_MASTODON_PAGE_SIZE", "mastodon_page_size"),
    )
    x_transaction_id: bool | Literal["auto"] = Field(
        default="auto", validation_alias=_env("HERALD_X_TRANSACTION_ID", "x_transaction_id")
    )
    """``auto``: sign requests for x.com (and twitter.com) only, not for a stand-in."""
    secret_key: str | None = Field(
        default=None, validation_alias=_env("HERALD_SECRET_KEY", "secret_key")
    )
    tracked_tweets: int = Field(
        default=100,
        ge=0,
        le=5000,
        validation_alias=_env("HERALD_TRACKED_TWEETS", "tracked_tweets"),
    )
    metrics_min_delta: int = Field(
        default=1, ge=0, validation_alias=_env("HERALD_METRICS_MIN_DELTA", "metrics_min_delta")
    )
    metrics_min_ratio: float = Field(
        default=0.0,
        ge=0,
        le=100,
        validation_alias=_env("HERALD_METRICS_MIN_RATIO", "metrics_min_ratio"),
    )
    metrics_views_min_delta: int = Field(
        default=100,
        ge=1,
        validation_alias=_env("HERALD_METRICS_VIEWS_MIN_DELTA", "metrics_views_min_delta"),
    )
    metrics_views_ratio: float = Field(
        default=0.1,
        ge=0,
        le=100,
        validation_alias=_env("HERALD_METRICS_VIEWS_RATIO", "metrics_views_ratio"),
    )
    deleted_after_misses: int = Field(
        default=2,
        ge=1,
        le=10,
        validation_alias=_env("HERALD_DELETED_AFTER_MISSES", "deleted_after_misses"),
    )

    # --- RSS and Atom feeds --------------------------------------------------------------
    rss_max_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        le=100 * 1024 * 1024,
        validation_alias=_env("HERALD_RSS_MAX_BYTES", "rss_max_bytes"),
    )

    # --- Bluesky (Jetstream) ------------------------------------------------------------
    jetstream_url: str = Field(
        default="wss://jetstream2.us-east.bsky.network/subscribe",
        validation_alias=_env("HERALD_JETSTREAM_URL", "jetstream_url"),
    )
    bsky_api_url: str = Field(
        default="https://public.api.bsky.app",
        validation_alias=_env("HERALD_BSKY_API_URL", "bsky_api_url"),
    )
    jetstream_wire: str = Field(
        default="json", validation_alias=_env("HERALD_JETSTREAM_WIRE", "jetstream_wire")
    )
    bsky_handle_ttl: int = Field(
        default=24 * 3600,
        ge=60,
        le=30 * 24 * 3600,
        validation_alias=_env("HERALD_BSKY_HANDLE_TTL", "bsky_handle_ttl"),
    )
    bsky_follow_ttl: int = Field(
        default=90 * 24 * 3600,
        ge=3600,
        le=3650 * 24 * 3600,
        validation_alias=_env("HERALD_BSKY_FOLLOW_TTL", "bsky_follow_ttl"),
    )

    # --- commands (X writes) ------------------------------------------------------------
    enable_writes: bool = Field(
        default=False, validation_alias=_env("HERALD_ENABLE_WRITES", "enable_writes")
    )
    write_limit_minute: int = Field(
        default=3,
        ge=0,
        le=1000,
        validation_alias=_env("HERALD_WRITE_LIMIT_MINUTE", "write_limit_minute"),
    )
    write_limit_hour: int = Field(
        default=30,
        ge=0,
        le=10_000,
        validation_alias=_env("HERALD_WRITE_LIMIT_HOUR", "write_limit_hour"),
    )
    write_limit_day: int = Field(
        default=300,
        ge=0,
        le=100_000,
        validation_alias=_env("HERALD_WRITE_LIMIT_DAY", "write_limit_day"),
    )
    write_pause: float = Field(
        default=6 * 3600,
        ge=1,
        le=30 * 24 * 3600,
        validation_alias=_env("HERALD_WRITE_PAUSE", "write_pause"),
    )
    command_reconcile_interval: float = Field(
        default=15,
        ge=0.05,
        le=3600,
        validation_alias=_env("HERALD_COMMAND_RECONCILE_INTERVAL", "command_reconcile_interval"),
    )
    command_settle_after: float = Field(
        default=300,
        ge=0,
        le=7 * 24 * 3600,
        validation_alias=_env("HERALD_COMMAND_SETTLE_AFTER", "command_settle_after"),
    )

    # --- the browser pool (X's fallback fetcher) ----------------------------------------
    browser: str = Field(
        default="auto",
        pattern=r"^(?i:on|off|auto)$",
        validation_alias=_env("HERALD_BROWSER", "browser"),
    )
    chromium: str | None = Field(default=None, validation_alias=_env("HERALD_CHROMIUM", "chromium"))
    browser_max: int = Field(
        default=2, ge=1, le=32, validation_alias=_env("HERALD_BROWSER_MAX", "browser_max")
    )
    browser_pages: int = Field(
        default=4, ge=1, le=64, validation_alias=_env("HERALD_BROWSER_PAGES", "browser_pages")
    )
    browser_retire_after: int = Field(
        default=200,
        ge=1,
        validation_alias=_env("HERALD_BROWSER_RETIRE_AFTER", "browser_retire_after"),
    )
    browser_idle: float = Field(
        default=300, gt=0, validation_alias=_env("HERALD_BROWSER_IDLE", "browser_idle")
    )
    browser_after: int = Field(
        default=2, ge=1, le=100, validation_alias=_env("HERALD_BROWSER_AFTER", "browser_after")
    )
    browser_probe_every: int = Field(
        default=5,
        ge=1,
        le=1000,
        validation_alias=_env("HERALD_BROWSER_PROBE_EVERY", "browser_probe_every"),
    )

    @field_validator("api_keys", "read_api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("webhooks_schedule")
    @classmethod
    def _schedule_steps(cls, value: str) -> str:
        from herald.webhooks.schedule import parse_schedule

        parse_schedule(value)
        return value

    @field_validator("x_transaction_id", mode="before")
    @classmethod
    def _signing_mode(cls, value: object) -> object:
        """``auto``, or true or false as every boolean setting reads them."""
        if isinstance(value, str):
            word = value.strip().lower()
            if word == "auto":
                return "auto"
            if word in _TRUE or word in _FALSE:
                return word in _TRUE
            raise ValueError("not true, false or auto")
        return value

    @model_validator(mode="after")
    def _intervals_in_order(self) -> Settings:
        if not self.min_interval <= self.default_interval <= self.max_interval:
            raise ValueError(
                "HERALD_MIN_INTERVAL <= HERALD_DEFAULT_INTERVAL <= HERALD_MAX_INTERVAL must hold "
                f"(got {self.min_interval:g}, {self.default_interval:g}, {self.max_interval:g})"
            )
        return self

    @property
    def uses_embedded_redis(self) -> bool:
        """No external server named: herald starts its own."""
        return not self.redis_url and not self.redis_host

    def external_redis_url(self) -> str:
        """The external server URL, built from the seed's REDIS_HOST/PORT/PASSWORD if needed."""
        if self.redis_url:
            return self.redis_url
        if not self.redis_host:
            raise ValueError("no external Redis configured (set REDIS_URL or REDIS_HOST)")
        auth = f":{self.redis_password}@" if self.redis_password else ""
        return f"redis://{auth}{self.redis_host}:{self.redis_port}/0"


# --- reading the environment, failing in one line ------------------------------------------

#: Settings whose values are never echoed back in an error (they may be secrets).
SECRET_FIELDS = frozenset(
    {
        "redis_url",
        "redis_password",
        "api_keys",
        "read_api_keys",
        "jwt_secret",
        "session_cookie",
        "secret_key",
    }
)
# A Postgres archive URL may hold a password.
SECRET_FIELDS = SECRET_FIELDS | {"archive_url"}
_KINDS = {int: "a whole number", float: "a number", bool: "true or false"}
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


def load_settings() -> Settings:
    """The settings from the environment; a bad value raises :class:`ConfigError` whose detail
    is one line naming the variable, what is wrong with its value and what is allowed."""
    try:
        return Settings()
    except PydanticValidationError as exc:
        raise ConfigError("; ".join(_explain(error) for error in exc.errors())) from None


def env_name(field: str) -> str:
    """The environment variable documented for a setting (its first upper-case alias)."""
    alias = Settings.model_fields[field].validation_alias
    choices = alias.choices if isinstance(alias, AliasChoices) else []
    names = [c for c in choices if isinstance(c, str) and c.isupper()]
    return names[0] if names else field.upper()


def bounds_text(field: str) -> str | None:
    """The allowed range of a bounded setting, as docs/configuration.md states it."""
    limits: dict[str, float] = {}
    for item in Settings.model_fields[field].metadata:
        for kind in ("gt", "ge", "lt", "le"):
            value = getattr(item, kind, None)
            if isinstance(value, int | float):
                limits[kind] = value
    low = _number(limits["ge"]) if "ge" in limits else None
    high = _number(limits["le"]) if "le" in limits else None
    if low is not None and high is not None:
        return f"{low} to {high}"
    if "gt" in limits and high is not None:
        return f"more than {_number(limits['gt'])}, at most {high}"
    if low is not None:
        return f"{low} or more"
    if "gt" in limits:
        return f"more than {_number(limits['gt'])}"
    if high is not None:
        return f"at most {high}"
    return None


def _number(value: float) -> str:
    """1000000, not 1e+06; 0.5 stays 0.5."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def allowed_text(field: str) -> str:
    """What a setting accepts: its kind of value and, if it has one, its range."""
    annotation = Settings.model_fields[field].annotation
    kind = _KINDS.get(annotation, "") if isinstance(annotation, type) else ""
    bounds = bounds_text(field)
    if kind and bounds:
        return f"{kind}, {bounds}"
    return kind or bounds or "see docs/configuration.md"


def _explain(error: Any) -> str:
    loc = error.get("loc") or ()
    name = str(loc[0]) if loc else ""
    field = _field_of(name)
    problem = _problem(error)
    if field is None:  # a rule across settings
        return f"invalid settings: {problem}"
    shown = env_name(field)
    value = error.get("input")
    if field in SECRET_FIELDS or not isinstance(value, str | int | float | bool):
        where = shown
    else:
        text = str(value)
        where = f"{shown}={text[:40]!r}" + ("..." if len(text) > 40 else "")
    return f"invalid {where}: {problem} (allowed: {allowed_text(field)})"


def _field_of(name: str) -> str | None:
    if name in Settings.model_fields:
        return name
    for field in Settings.model_fields:
        alias = Settings.model_fields[field].validation_alias
        if isinstance(alias, AliasChoices) and any(
            isinstance(c, str) and c.lower() == name.lower() for c in alias.choices
        ):
            return field
    return None


def _problem(error: Any) -> str:
    ctx = error.get("ctx") or {}
    kind = str(error.get("type", ""))
    words = {
        "greater_than_equal": "must be at least {ge}",
        "greater_than": "must be more than {gt}",
        "less_than_equal": "must be at most {le}",
        "less_than": "must be less than {lt}",
    }
    if kind in words:
        return words[kind].format(**{k: _number(v) for k, v in ctx.items()})
    if kind.startswith("int_"):
        return "not a whole number"
    if kind.startswith("float_"):
        return "not a number"
    if kind.startswith("bool_"):
        return "not true or false"
    message = str(ctx.get("error") or error.get("msg") or kind)
    return message.removeprefix("Value error, ")
