-- The only path to 'succeeded'. Accepted only from the current lease holder.
-- ARGV[3] id, ARGV[4] lease token, ARGV[5] result JSON.
-- Returns 1 succeeded, 2 finished as superseded, 0 lease lost (result discarded), 4 this lease's
-- outcome was already recorded (a retry after a lost reply).
local id, token, result = ARGV[3], ARGV[4], ARGV[5]
local jk = job_key(id)
local f = redis.call('HMGET', jk, 'lease', 'state', 'kind', 'started_ms', 'ended_lease')
if token == '' then return 0 end
if f[1] ~= token then return (f[5] == token) and 4 or 0 end
local now = now_ms()
end_lease(jk, token)
redis.call('ZREM', K_LEASES, id)
observe_duration(now - (tonumber(f[4]) or now))
if f[2] == 'superseded' then
  finish(id, now)
  return 2
end
redis.call('HSET', jk, 'state', 'succeeded', 'result', result)
redis.call('HINCRBY', jk, 'completions', 1)
count('succeeded', f[3])
finish(id, now)
return 1
