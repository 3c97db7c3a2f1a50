-- The only path to 'succeeded'. Accepted only from the current lease holder.
-- Also the path to 'superseded' when the runner itself found the job superseded (a newer commit already
-- applied). ARGV[3] id, ARGV[4] lease token, ARGV[5] result JSON, ARGV[6] 'superseded' or empty.
-- Returns 1 succeeded, 2 finished as superseded, 0 lease lost (result discarded), 4 this lease's
-- outcome was already recorded (a retry after a lost reply), 5 ended superseded by the runner's verdict.
local id, token, result, final = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
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
if final == 'superseded' then
  redis.call('HSET', jk, 'state', 'superseded', 'result', result)
  count('superseded', f[3])
  finish(id, now)
  return 5
end
redis.call('HSET', jk, 'state', 'succeeded', 'result', result)
redis.call('HINCRBY', jk, 'completions', 1)
count('succeeded', f[3])
finish(id, now)
return 1
