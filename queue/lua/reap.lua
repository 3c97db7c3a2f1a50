-- Reaper duties; atomic, so any number of reapers may run at once. Bounded work per call.
-- ARGV[3] worker timeout (ms), ARGV[4] batch size. Returns how many jobs were moved.
local worker_timeout, batch = tonumber(ARGV[3]), tonumber(ARGV[4])
local now = now_ms()
local moved = 0

-- Expired leases: the worker died or stalled. The attempt was counted at claim, so a job that keeps
-- killing its workers runs out of attempts and is quarantined in the dead letters.
for _, id in ipairs(redis.call('ZRANGEBYSCORE', K_LEASES, '-inf', now, 'LIMIT', 0, batch)) do
  redis.call('ZREM', K_LEASES, id)
  local jk = job_key(id)
  local f = redis.call('HMGET', jk, 'state', 'attempts', 'max_attempts', 'kind', 'worker')
  if f[1] == 'active' then
    redis.call('HDEL', jk, 'lease')
    local attempts, max = tonumber(f[2]) or 0, tonumber(f[3]) or 1
    local why = 'lease expired on worker ' .. (f[5] or '?') .. ' (attempt ' .. attempts .. ' of ' .. max ..
                '): the worker died or stopped heartbeating'
    if attempts >= max then
      redis.call('HSET', jk, 'state', 'dead', 'error', why .. '; dead-lettered')
      redis.call('ZADD', K_DEAD, now, id)
      count('dead', f[4])
      finish(id, now)
    else
      redis.call('HSET', jk, 'state', 'queued', 'error', why .. '; requeued', 'updated_ms', now)
      -- Right end: it has waited longest, so it runs next.
      redis.call('RPUSH', K_WAIT, id)
      count('queued', f[4])
    end
    moved = moved + 1
  elseif f[1] == 'superseded' then
    finish(id, now)
    moved = moved + 1
  end
end

-- Retries whose backoff is over.
for _, id in ipairs(redis.call('ZRANGEBYSCORE', K_DELAYED, '-inf', now, 'LIMIT', 0, batch)) do
  redis.call('ZREM', K_DELAYED, id)
  local jk = job_key(id)
  local f = redis.call('HMGET', jk, 'state', 'kind')
  if f[1] == 'retrying' then
    redis.call('HSET', jk, 'state', 'queued', 'updated_ms', now)
    redis.call('LPUSH', K_WAIT, id)
    count('queued', f[2])
    moved = moved + 1
  end
end

-- Fetchers that went silent: whatever they fetched but never claimed goes back to the wait list.
for _, name in ipairs(redis.call('ZRANGEBYSCORE', K_WORKERS, '-inf', now - worker_timeout, 'LIMIT', 0, batch)) do
  local fk = fetched_key(name)
  while redis.call('LMOVE', fk, K_WAIT, 'RIGHT', 'RIGHT') do moved = moved + 1 end
  redis.call('ZREM', K_WORKERS, name)
end

-- Finished records past the retention: their hashes expire on their own; drop the index entries.
for _, id in ipairs(redis.call('ZRANGEBYSCORE', K_EXPIRING, '-inf', now - RETENTION_S * 1000, 'LIMIT', 0, batch)) do
  redis.call('ZREM', K_EXPIRING, id)
  redis.call('ZREM', K_INDEX, id)
  redis.call('ZREM', K_DEAD, id)
  redis.call('DEL', job_key(id), log_key(id))
end

return moved
