-- Prelude shared by every queue script (prepended at build time).
-- KEYS[1..10] are the queue's fixed keys, in the order of Keys::fixed(); scripts may take more.
-- ARGV[1] is the hash tag "{prefix}" that per-job keys are derived from (same slot on a Cluster),
-- ARGV[2] the retention of finished records in seconds.
local K_WAIT, K_DELAYED, K_LEASES, K_DEAD, K_INDEX = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local K_COUNTS, K_DURATION, K_EXPIRING, K_WORKERS, K_SEQ = KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10]
local TAG = ARGV[1]
local RETENTION_S = tonumber(ARGV[2])

-- Server time, so leases and backoffs do not depend on the clocks of the hosts running helmgate.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function job_key(id) return TAG .. ':job:' .. id end
local function log_key(id) return TAG .. ':log:' .. id end
local function fetched_key(name) return TAG .. ':fetched:' .. name end

-- Monotonic counters of transitions into each (state, kind).
local function count(state, kind)
  redis.call('HINCRBY', K_COUNTS, state .. '|' .. (kind or ''), 1)
end

-- Keep in sync with duration_buckets_ms in queue/queue.cpp.
local BUCKETS_MS = {100, 500, 1000, 2000, 5000, 10000, 30000, 60000, 120000, 300000}
local function observe_duration(ms)
  if ms < 0 then ms = 0 end
  local field = 'le:inf'
  for _, b in ipairs(BUCKETS_MS) do
    if ms <= b then field = 'le:' .. b break end
  end
  redis.call('HINCRBY', K_DURATION, field, 1)
  redis.call('HINCRBY', K_DURATION, 'count', 1)
  redis.call('HINCRBY', K_DURATION, 'sum_ms', ms)
end

-- The lease holder reported its outcome: remember the token, so that the same report sent again
-- (its reply was lost with the connection) is recognised instead of rejected as "lease lost".
local function end_lease(jk, token)
  redis.call('HDEL', jk, 'lease')
  redis.call('HSET', jk, 'ended_lease', token)
end

-- A record reached a terminal state: it expires after the retention, and the reaper drops it from
-- the indexes at the same time. Extra field/value pairs are written with the timestamps.
local function finish(id, now, ...)
  redis.call('HSET', job_key(id), 'finished_ms', now, 'updated_ms', now, ...)
  redis.call('HDEL', job_key(id), 'lease')
  redis.call('EXPIRE', job_key(id), RETENTION_S)
  redis.call('EXPIRE', log_key(id), RETENTION_S)
  redis.call('ZADD', K_EXPIRING, now, id)
end
