-- Register fetchers as alive and renew the leases whose token still matches.
-- ARGV[3] visibility timeout (ms), ARGV[4] number of fetcher names, the names, then (id, token) pairs.
-- Returns one code per pair: 1 renewed, 0 lease lost, 2 renewed but superseded by a newer job,
-- 3 the holder's outcome is already recorded (its reply was lost).
local vt = tonumber(ARGV[3])
local nf = tonumber(ARGV[4])
local now = now_ms()
for i = 5, 4 + nf do redis.call('ZADD', K_WORKERS, now, ARGV[i]) end
local out = {}
local i = 5 + nf
while i < #ARGV do
  local id, token = ARGV[i], ARGV[i + 1]
  local f = redis.call('HMGET', job_key(id), 'lease', 'state', 'ended_lease')
  if f[1] ~= token then
    out[#out + 1] = (f[3] == token) and 3 or 0
  else
    redis.call('ZADD', K_LEASES, 'XX', now + vt, id)
    out[#out + 1] = (f[2] == 'superseded') and 2 or 1
  end
  i = i + 2
end
return out
