"""The Lua scripts of running pipelines (used by :mod:`herald.store.pipelines`).

``COMMIT`` is the heart: state, ack, dead letters and append-once outputs in one atomic
step, refused unless the caller holds the pipeline's lease. Its append part composes the
event log's append-once step (``store/eventlog.py``): ``ZADD NX`` of the eventId, and only
a new one is ``XADD``ed.
"""

from __future__ import annotations

COMMIT = """
-- KEYS: state, global log, output eventids, lease, dead letters, retry list
-- ARGV: owner, group, now_ms, log_max, eventids_max, dead_max, blob, n_in, n_errors,
--       retried, source, n_acks, acks..., n_dead, dead..., then (eventId, type, body) triples
if redis.call('GET', KEYS[4]) ~= ARGV[1] then return false end
local i = 13
local n_acks = tonumber(ARGV[12])
if n_acks > 0 then
  redis.call('XACK', KEYS[2], ARGV[2], unpack(ARGV, i, i + n_acks - 1))
end
i = i + n_acks
local n_dead = tonumber(ARGV[i])
i = i + 1
for j = i, i + n_dead - 1 do redis.call('LPUSH', KEYS[5], ARGV[j]) end
if n_dead > 0 then redis.call('LTRIM', KEYS[5], 0, tonumber(ARGV[6]) - 1) end
i = i + n_dead
local retried = tonumber(ARGV[10])
if retried > 0 then redis.call('LTRIM', KEYS[6], retried, -1) end
local appended = 0
for j = i, #ARGV, 3 do
  local eid, etype, body = ARGV[j], ARGV[j + 1], ARGV[j + 2]
  if redis.call('ZADD', KEYS[3], 'NX', ARGV[3], eid) == 1 then
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 't', etype, 's', ARGV[11], 'e', body)
    appended = appended + 1
  end
end
if appended > 0 then
  local excess = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[5])
  if excess > 0 then redis.call('ZREMRANGEBYRANK', KEYS[3], 0, excess - 1) end
end
redis.call('HSET', KEYS[1], 'state', ARGV[7], 'committedAt', ARGV[3])
if n_acks > 0 then redis.call('HSET', KEYS[1], 'offset', ARGV[12 + n_acks]) end
redis.call('HINCRBY', KEYS[1], 'batches', 1)
redis.call('HINCRBY', KEYS[1], 'in', tonumber(ARGV[8]))
redis.call('HINCRBY', KEYS[1], 'errors', tonumber(ARGV[9]))
redis.call('HINCRBY', KEYS[1], 'out', appended)
redis.call('HINCRBY', KEYS[1], 'deadLetters', n_dead)
return appended
"""

# Read the next entries for the lease holder only, with the pipeline's controls in the same
# round trip; KEYS: lease, log, state, retry; ARGV: owner, group, count, id ("0" = its
# pending entries, ">" = new ones). false when not the holder, else {paused, retries, entries}.
READ = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
local retries = redis.call('LLEN', KEYS[4])
if redis.call('HGET', KEYS[3], 'paused') == '1' then return {1, retries, {}} end
local r = redis.call('XREADGROUP', 'GROUP', ARGV[2], ARGV[1], 'COUNT', ARGV[3],
                     'STREAMS', KEYS[2], ARGV[4])
if not r then return {0, retries, {}} end
return {0, retries, r[1][2]}
"""

# Append one event of the pipeline's own (pipeline:error) once, and set the state field
# that says why, only on a change; KEYS: state, log, eventids; ARGV: field, value, eventId,
# type, body, now_ms, log_max, source. Returns 1 when it was new.
RAISE = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if redis.call('ZADD', KEYS[3], 'NX', ARGV[6], ARGV[3]) == 1 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], '*', 't', ARGV[4], 's', ARGV[8], 'e', ARGV[5])
end
return 1
"""

# Take the lease when free or already ours; KEYS: lease, state; ARGV: owner, px.
ACQUIRE = """
local cur = redis.call('GET', KEYS[1])
if cur == false or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  if cur == false then redis.call('HSET', KEYS[2], 'owner', ARGV[1]) end
  return 1
end
return 0
"""
# Extend the lease only while it is still ours; KEYS: lease; ARGV: owner, px. A worker
# whose lease lapsed must not take it back with state that may be stale: it restores first.
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
# Start a pipeline over from a point of the log, on purpose: the owner is fenced (its lease
# goes), the state and the group's pending entries go, the group reads after ARGV[2].
# KEYS: lease, state, log; ARGV: group, id.
RESET = """
redis.call('DEL', KEYS[1])
redis.call('HDEL', KEYS[2], 'state', 'error', 'lagError', 'offset', 'pausedReason')
redis.call('HSET', KEYS[2], 'paused', '0')
redis.pcall('XGROUP', 'DESTROY', KEYS[3], ARGV[1])
redis.call('XGROUP', 'CREATE', KEYS[3], ARGV[1], ARGV[2], 'MKSTREAM')
return 1
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# Move every dead letter to the retry list (oldest first); KEYS: dead, retry.
REQUEUE = """
local n = 0
while true do
  local v = redis.call('RPOP', KEYS[1])
  if not v then break end
  redis.call('RPUSH', KEYS[2], v)
  n = n + 1
end
return n
"""
