"""Every Redis key herald uses, in one place.

A stream's keys share the hash tag ``{id}`` so a Redis Cluster keeps them in one slot.
The SAQ queue lives under ``saq:{prefix}:*`` (its own naming), with job keys ``poll:{id}``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str = "herald"

    # --- per stream (hash-tagged) ------------------------------------------------
    def meta(self, stream_id: str) -> str:
        """hash: type, username, interval, createdAt, accountId, options (never a raw token)."""
        return f"{self.prefix}:stream:{{{stream_id}}}:meta"

    def state(self, stream_id: str) -> str:
        """hash: status, lastPoll, nextPoll, consecutiveErrors, failures, lastError, highWater,
        counts."""
        return f"{self.prefix}:stream:{{{stream_id}}}:state"

    def history(self, stream_id: str) -> str:
        """stream: the stream's capped recent events (field ``o`` = global offset, ``e`` = body)."""
        return f"{self.prefix}:stream:{{{stream_id}}}:history"

    def lock(self, stream_id: str) -> str:
        """string: owner token of the poll in flight, with a PX lease."""
        return f"{self.prefix}:stream:{{{stream_id}}}:lock"

    def seen(self, stream_id: str) -> str:
        """zset: seen object ids scored by their numeric id, trimmed to a bounded size."""
        return f"{self.prefix}:stream:{{{stream_id}}}:seen"

    def snapshot(self, stream_id: str) -> str:
        """hash: follower id -> username (a lost follower's event needs the name)."""
        return f"{self.prefix}:stream:{{{stream_id}}}:snapshot"

    def event_ids(self, stream_id: str) -> str:
        """zset: eventIds already appended (append-once), scored by time, trimmed."""
        return f"{self.prefix}:stream:{{{stream_id}}}:eventids"

    def engagement(self, stream_id: str) -> str:
        """hash: tweet id -> what herald knew of a recent tweet (its payload, the metrics
        last reported, polls that missed it), for ``stream:tweet:metrics`` and ``:deleted``;
        trimmed to the newest ``HERALD_TRACKED_TWEETS``."""
        return f"{self.prefix}:stream:{{{stream_id}}}:engagement"

    def stream_keys(self, stream_id: str) -> tuple[str, ...]:
        return (
            self.meta(stream_id),
            self.state(stream_id),
            self.history(stream_id),
            self.lock(stream_id),
            self.seen(stream_id),
            self.snapshot(stream_id),
            self.event_ids(stream_id),
            self.engagement(stream_id),
        )

    # --- global ----------------------------------------------------------------
    @property
    def streams(self) -> str:
        """zset: index of stream ids, scored by creation time."""
        return f"{self.prefix}:streams"

    @property
    def stream_index(self) -> str:
        """hash: ``{type}:{username}:{accountId}`` -> stream id, so duplicates are refused."""
        return f"{self.prefix}:streams:bykey"

    @property
    def events(self) -> str:
        """stream: the global event log; entry id = event offset. Fields: t, s, e."""
        return f"{self.prefix}:events"

    @property
    def queue_name(self) -> str:
        """The SAQ queue name; SAQ keys are ``saq:{queue_name}:*``."""
        return self.prefix

    def account(self, account_id: str) -> str:
        """hash: an X account's encrypted cookie, label, health."""
        return f"{self.prefix}:account:{account_id}"

    @property
    def accounts(self) -> str:
        """zset: index of account ids."""
        return f"{self.prefix}:accounts"

    def rate_limits(self, scope: str) -> str:
        """hash: endpoint -> "remaining reset" (epoch s) for one rate-limit scope (an X
        account id, a Mastodon instance and token hash); expires at its latest reset."""
        return f"{self.prefix}:ratelimit:{scope}"

    def worker_alive(self, worker_id: str) -> str:
        """string: a live worker's heartbeat (pid, host, since), renewed well within its PX."""
        return f"{self.prefix}:worker:{worker_id}:alive"

    def worker_locks(self, worker_id: str) -> str:
        """hash: stream id -> token of the last poll lock the worker's process asked for, so
        a sweep can free the lock of a dead worker's poll, and no other; PX of the latest lease."""
        return f"{self.prefix}:worker:{worker_id}:locks"

    def lease(self, name: str) -> str:
        """string: a named process-wide lease (``reconcile``: one reconciler at a time)."""
        return f"{self.prefix}:{name}:lock"

    @property
    def reconcile_lock(self) -> str:
        return self.lease("reconcile")

    def sio_session(self, pid: str) -> str:
        """string (JSON, with a TTL): a Socket.IO session's recovery state, by its ``pid``."""
        return f"{self.prefix}:sio:session:{pid}"

    # --- alerts (herald/store/alerts.py) ---------------------------------------------
    @property
    def alert_rules(self) -> str:
        """hash: rule id -> the rule (JSON)."""
        return f"{self.prefix}:alerts:rules"

    @property
    def alert_order(self) -> str:
        """zset: rule ids scored by creation, so rules list in creation order."""
        return f"{self.prefix}:alerts:order"

    @property
    def alert_silences(self) -> str:
        """hash: silence id -> the silence (JSON); expired ones are pruned on read."""
        return f"{self.prefix}:alerts:silences"

    @property
    def alert_version(self) -> str:
        """string: a counter bumped by every change of rules or silences (the evaluator
        reloads them when it moves)."""
        return f"{self.prefix}:alerts:version"

    @property
    def alert_status(self) -> str:
        """hash: rule id -> its live status (JSON), written by the evaluator after a batch."""
        return f"{self.prefix}:alerts:status"

    @property
    def presence_nodes(self) -> str:
        """zset: node id -> when its presence report lapses (ms, the server's clock)."""
        return f"{self.prefix}:{{presence}}:nodes"

    @property
    def presence_counts(self) -> str:
        """hash: node id -> its live connections per transport (JSON); the hash tag keeps
        it in one slot with ``presence_nodes`` for the script that updates both."""
        return f"{self.prefix}:{{presence}}:counts"

    @property
    def stats(self) -> str:
        """hash: global counters (polls, errors by kind)."""
        return f"{self.prefix}:stats"

    # --- push connections (herald.store.push) ------------------------------------------
    def push_lease(self, connection: str) -> str:
        """string: owner token of the worker holding a push connection, with a PX lease."""
        return f"{self.prefix}:push:{{{connection}}}:lease"

    def push_cursor(self, connection: str) -> str:
        """string: the upstream position a push connection resumes from (its TTL renewed
        by every batch that moves it)."""
        return f"{self.prefix}:push:{{{connection}}}:cursor"

    def push_status(self, connection: str) -> str:
        """hash: owner, connected, lastMessage, lag, eventsPerSecond, reconnects, lastError;
        written by the owner, expires a few leases after its last write."""
        return f"{self.prefix}:push:{{{connection}}}:status"

    @property
    def push_streams(self) -> str:
        """hash: push stream id -> epoch seconds it (re)joined its connection."""
        return f"{self.prefix}:push:streams"

    @property
    def push_version(self) -> str:
        """string: counter bumped on every push stream lifecycle change (workers watch it)."""
        return f"{self.prefix}:push:version"

    # --- Bluesky (herald.store.bsky) ------------------------------------------------
    def bsky_handle(self, handle: str) -> str:
        """string: the DID a Bluesky handle resolved to, with a TTL (refreshed on identity)."""
        return f"{self.prefix}:bsky:handle:{handle}"

    def bsky_follow(self, did: str, rkey: str) -> str:
        """string: the subject of the follow record ``did``/``rkey`` of a watched account,
        with a TTL, so the follow's delete (which names only did and rkey) says who left."""
        return f"{self.prefix}:bsky:follow:{did}/{rkey}"

    def bsky_count(self, stream_id: str) -> str:
        """string: the follower count last reported for a ``bsky:follower`` stream, with
        the follow TTL, so ``stream:follower:count`` reports against it."""
        return f"{self.prefix}:bsky:count:{stream_id}"

    # --- commands (herald.store.commands) --------------------------------------------
    def command(self, command_id: str) -> str:
        """hash: one command (``doc`` = the command as answered, JSON; ``state``; ``lease``
        = epoch ms until which its runner owns it)."""
        return f"{self.prefix}:command:{command_id}"

    @property
    def commands(self) -> str:
        """zset: command ids scored by requestedAt (ms), newest kept, for ``list``."""
        return f"{self.prefix}:commands"

    @property
    def commands_open(self) -> str:
        """zset: ids of commands not yet settled (requested, running, uncertain), scored by
        requestedAt (ms): what the command reconciler looks at."""
        return f"{self.prefix}:commands:open"

    def write_budget(self, account_id: str) -> str:
        """zset: an account's recent writes (command id -> sent at, ms), a sliding window
        shared by every worker."""
        return f"{self.prefix}:writes:{account_id}:budget"

    def write_pause(self, account_id: str) -> str:
        """string (JSON, with a PX): why an account's writes are paused (X's 226 or 326)."""
        return f"{self.prefix}:writes:{account_id}:paused"

    # --- webhooks (herald.store.webhooks) ----------------------------------------------
    @property
    def webhooks(self) -> str:
        """hash: endpoint id -> the endpoint (JSON; its secret sealed, never in the clear)."""
        return f"{self.prefix}:webhooks:endpoints"

    @property
    def webhook_order(self) -> str:
        """zset: endpoint ids scored by creation, so endpoints list in creation order."""
        return f"{self.prefix}:webhooks:order"

    @property
    def webhook_version(self) -> str:
        """string: a counter bumped by every endpoint change (deliverers reload on a move)."""
        return f"{self.prefix}:webhooks:version"

    def webhook_state(self, endpoint_id: str) -> str:
        """hash: the endpoint's committed offset, its retry in progress (offset, attempts,
        nextAt), health, counters; written only by the lease holder (fenced scripts)."""
        return f"{self.prefix}:webhook:{{{endpoint_id}}}:state"

    def webhook_lease(self, endpoint_id: str) -> str:
        """string: owner token of the process delivering to the endpoint, with a PX lease."""
        return f"{self.prefix}:webhook:{{{endpoint_id}}}:lease"

    def webhook_attempts(self, endpoint_id: str) -> str:
        """list: the newest delivery attempts (JSON: eventId, offset, status, latencyMs,
        error, at), newest first, capped at ``HERALD_WEBHOOKS_ATTEMPTS_KEPT``."""
        return f"{self.prefix}:webhook:{{{endpoint_id}}}:attempts"

    # --- the archive writer (herald.store.archive) -------------------------------------
    @property
    def archive_lease(self) -> str:
        """string: owner token of the process writing the archive, with a PX lease."""
        return f"{self.prefix}:archive:lease"

    @property
    def archive_state(self) -> str:
        """hash: the archive writer's progress (archived, lastOffset, lag, lastPurge,
        lastError), for status and metrics."""
        return f"{self.prefix}:archive:state"


def poll_job_key(stream_id: str) -> str:
    return f"poll:{stream_id}"
