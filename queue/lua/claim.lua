-- A fetcher moved an id from the wait list to its fetched list (BLMOVE): lease it to that worker.
-- KEYS[11] the fetcher's list. ARGV[3] id, ARGV[4] lease token, ARGV[5] visibility timeout (ms),
-- ARGV[6] fetcher name. Returns the job hash (flat), or nil when the job is no longer claimable
-- (superseded, already active elsewhere, expired): the fetched entry is dropped either way.
-- Retrying with the same token after a lost reply is safe.
local id, token, vt, fetcher = ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
redis.call('LREM', KEYS[11], 1, id)
local jk = job_key(id)
local f = redis.call('HMGET', jk, 'state', 'kind', 'lease')
-- Same token again: our earlier claim ran but its reply was lost (connection dropped).
if f[3] == token then return redis.call('HGETALL', jk) end
if f[1] ~= 'queued' then return false end
local now = now_ms()
redis.call('HINCRBY', jk, 'attempts', 1)
redis.call('HSET', jk, 'state', 'active', 'lease', token, 'worker', fetcher, 'started_ms', now,
           'updated_ms', now)
redis.call('ZADD', K_LEASES, now + vt, id)
redis.call('ZADD', K_WORKERS, now, fetcher)
count('active', f[2])
return redis.call('HGETALL', jk)
