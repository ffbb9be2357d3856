"""The Lua scripts of :mod:`herald.store.webhooks`: each keeps one change atomic (an
endpoint and its state, a fenced commit with its attempt record, a disable with its
``webhook:health`` event), so a crash or a racing process can never leave half of it."""

from __future__ import annotations

# KEYS: endpoints, order, version, state; ARGV: id, json, start offset. 0 if the id exists.
CREATE = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
local v = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], v, ARGV[1])
redis.call('DEL', KEYS[4])
redis.call('HSET', KEYS[4], 'offset', ARGV[3], 'health', 'ok', 'healthSeq', '0')
return v
"""
# KEYS: endpoints, version, state; ARGV: id, json, reset ('1': a fresh retry schedule).
REPLACE = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == '1' then
  redis.call('HDEL', KEYS[3], 'retryOffset', 'retryAttempts', 'nextAt', 'failingSince')
end
return redis.call('INCR', KEYS[2])
"""
# KEYS: endpoints, order, version, state, lease, attempts; ARGV: id. 1 if it existed.
DELETE = """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[4], KEYS[5], KEYS[6])
redis.call('INCR', KEYS[3])
return 1
"""
# KEYS: lease; ARGV: owner, ttl ms. 1 when the caller holds it afterwards.
ACQUIRE = """
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if held then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# KEYS: lease, state, attempts; ARGV: owner, offset, attempt json ('' none), kept,
# delivered (0 or 1), now ms. Moves the offset past a delivered (or skipped) event.
COMMIT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
redis.call('HSET', KEYS[2], 'offset', ARGV[2])
redis.call('HDEL', KEYS[2], 'retryOffset', 'retryAttempts', 'nextAt', 'failingSince')
if ARGV[5] ~= '0' then
  redis.call('HINCRBY', KEYS[2], 'delivered', ARGV[5])
  redis.call('HSET', KEYS[2], 'lastSuccessAt', ARGV[6])
end
if ARGV[3] ~= '' then
  redis.call('LPUSH', KEYS[3], ARGV[3])
  redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[4]) - 1)
end
return 1
"""
# KEYS: lease, state, attempts; ARGV: owner, retry offset, attempts, next at ms, now ms,
# attempt json, kept, error. Records a failed attempt and when the next one is due.
FAIL = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
redis.call('HSET', KEYS[2], 'retryOffset', ARGV[2], 'retryAttempts', ARGV[3],
           'nextAt', ARGV[4], 'lastError', ARGV[8])
redis.call('HSETNX', KEYS[2], 'failingSince', ARGV[5])
redis.call('HINCRBY', KEYS[2], 'failed', 1)
redis.call('LPUSH', KEYS[3], ARGV[6])
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[7]) - 1)
return 1
"""
# KEYS: endpoints, state, attempts; ARGV: id, expected json, committed offset, new offset,
# attempt json, kept. Gives up on the held event of a disabled endpoint: moves the committed
# offset past it, unless the endpoint or its offset changed since the caller looked.
SKIP = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 'changed' end
if (redis.call('HGET', KEYS[2], 'offset') or '') ~= ARGV[3] then return 'moved' end
redis.call('HSET', KEYS[2], 'offset', ARGV[4])
redis.call('HDEL', KEYS[2], 'retryOffset', 'retryAttempts', 'nextAt', 'failingSince')
redis.call('HINCRBY', KEYS[2], 'skipped', 1)
redis.call('LPUSH', KEYS[3], ARGV[5])
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[6]) - 1)
return 'skipped'
"""
# The health part shared by _DISABLE and _HEALTH. KEYS (from 4): state, eventids,
# history, global log. ARGV (from 1): expected seq, health, event id, type, body, now ms,
# history max, log max, stream id, ttl.
_HEALTH_PART = """
local seq = tonumber(redis.call('HGET', KEYS[4], 'healthSeq') or '0')
if seq ~= tonumber(ARGV[1]) then return {'stale', tostring(seq)} end
redis.call('HSET', KEYS[4], 'health', ARGV[2], 'healthSeq', seq + 1)
if redis.call('ZADD', KEYS[5], 'NX', ARGV[6], ARGV[3]) == 1 then
  local off = redis.call('XADD', KEYS[7], 'MAXLEN', '~', ARGV[8], '*',
                         't', ARGV[4], 's', ARGV[9], 'e', ARGV[5])
  redis.call('XADD', KEYS[6], 'MAXLEN', ARGV[7], '*', 'o', off, 'e', ARGV[5])
  redis.call('EXPIRE', KEYS[5], ARGV[10])
  redis.call('EXPIRE', KEYS[6], ARGV[10])
end
"""
# KEYS: endpoints, version, lease, + the health keys; ARGV: the health args, then owner,
# id, expected json, new json, attempt json ('' none), kept, attempts key.
DISABLE = (
    """
if ARGV[11] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[11] then return {'fenced', ''} end
if redis.call('HGET', KEYS[1], ARGV[12]) ~= ARGV[13] then return {'changed', ''} end
"""
    + _HEALTH_PART
    + """
redis.call('HSET', KEYS[1], ARGV[12], ARGV[14])
redis.call('INCR', KEYS[2])
if ARGV[15] ~= '' then
  redis.call('LPUSH', KEYS[8], ARGV[15])
  redis.call('LTRIM', KEYS[8], 0, tonumber(ARGV[16]) - 1)
end
return {'moved', tostring(seq + 1)}
"""
)
# KEYS: endpoints, version, lease (unused), + the health keys; ARGV: the health args.
HEALTH = _HEALTH_PART + "\nreturn {'moved', tostring(seq + 1)}\n"
