-- A run failed. Accepted only from the current lease holder.
-- ARGV[3] id, ARGV[4] lease token, ARGV[5] error text, ARGV[6] '1' for a permanent failure,
-- ARGV[7] backoff before the next attempt (ms, computed by the caller with jitter).
-- Returns 1 retrying, 3 dead, 2 finished as superseded, 0 lease lost, 4 already recorded.
local id, token, err, permanent, delay = ARGV[3], ARGV[4], ARGV[5], ARGV[6] == '1', tonumber(ARGV[7])
local jk = job_key(id)
local f = redis.call('HMGET', jk, 'lease', 'state', 'kind', 'started_ms', 'attempts', 'max_attempts', 'ended_lease')
if token == '' then return 0 end
if f[1] ~= token then return (f[7] == token) and 4 or 0 end
local now = now_ms()
end_lease(jk, token)
redis.call('ZREM', K_LEASES, id)
observe_duration(now - (tonumber(f[4]) or now))
redis.call('HSET', jk, 'error', err, 'updated_ms', now)
if f[2] == 'superseded' then
  finish(id, now)
  return 2
end
if permanent or (tonumber(f[5]) or 0) >= (tonumber(f[6]) or 1) then
  redis.call('HSET', jk, 'state', 'dead')
  redis.call('ZADD', K_DEAD, now, id)
  count('dead', f[3])
  finish(id, now)
  return 3
end
redis.call('HSET', jk, 'state', 'retrying', 'next_run_ms', now + delay)
redis.call('ZADD', K_DELAYED, now + delay, id)
count('retrying', f[3])
return 1
