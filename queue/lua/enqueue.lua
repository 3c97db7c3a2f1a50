-- Enqueue n jobs atomically, with dedupe on the delivery id and coalescing by coalesce key.
-- KEYS[11] dedupe key; KEYS[11+i] coalesce pointer of job i.
-- ARGV[3] max_attempts, ARGV[4] dedupe ttl (s), ARGV[5] '1' when dedupe applies, ARGV[6] n,
-- then per job 7 values: spec, kind, repo, head_sha, replay_of, delivery_id, has_coalesce_key.
local max_attempts = ARGV[3]
local dedupe_ttl = tonumber(ARGV[4])
local has_dedupe = ARGV[5] == '1'
local n = tonumber(ARGV[6])
local dedupe_key = KEYS[11]

if has_dedupe then
  local prev = redis.call('GET', dedupe_key)
  if prev then
    -- A redelivery renews the dedupe window. It is also a write, so a WAIT after it (durability
    -- replicated) covers the original enqueue, which the replication stream carried before it.
    redis.call('EXPIRE', dedupe_key, dedupe_ttl)
    return {1, prev, ''}
  end
end

local now = now_ms()

local function supersede(old, by)
  local jk = job_key(old)
  local f = redis.call('HMGET', jk, 'state', 'kind')
  redis.call('HSET', jk, 'state', 'superseded', 'superseded_by', by, 'updated_ms', now)
  count('superseded', f[2])
  if f[1] == 'queued' then
    -- LPUSH adds on the left and workers take from the right: the older job is nearer the right.
    redis.call('LREM', K_WAIT, -1, old)
    finish(old, now)
  elseif f[1] == 'retrying' then
    redis.call('ZREM', K_DELAYED, old)
    finish(old, now)
  end
  -- An active job keeps its lease: its worker sees the flag and its completion (or the reaper)
  -- finishes it with the state left at superseded.
end

local ids, superseded = {}, {}
for i = 1, n do
  local b = 6 + (i - 1) * 7
  local spec, kind, repo, head = ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4]
  local replay_of, delivery, has_ck = ARGV[b + 5], ARGV[b + 6], ARGV[b + 7] == '1'
  local ck = KEYS[11 + i]
  local id, older = nil, nil
  if has_ck then
    older = redis.call('GET', ck)
    if older then
      local f = redis.call('HMGET', job_key(older), 'state', 'head_sha')
      if f[1] == 'queued' and head ~= '' and f[2] == head then
        id = older
      elseif f[1] ~= 'queued' and f[1] ~= 'retrying' and f[1] ~= 'active' then
        older = nil
      end
    end
  end
  if not id then
    id = tostring(redis.call('INCR', K_SEQ))
    redis.call('HSET', job_key(id), 'id', id, 'spec', spec, 'kind', kind, 'repo', repo, 'state', 'queued',
               'attempts', 0, 'max_attempts', max_attempts, 'created_ms', now, 'updated_ms', now,
               'head_sha', head, 'replay_of', replay_of, 'delivery_id', delivery)
    redis.call('LPUSH', K_WAIT, id)
    redis.call('ZADD', K_INDEX, tonumber(id), id)
    count('queued', kind)
    if older then
      supersede(older, id)
      superseded[#superseded + 1] = older
    end
    if has_ck then redis.call('SET', ck, id, 'EX', RETENTION_S) end
  end
  ids[#ids + 1] = id
end

local joined = table.concat(ids, ',')
if has_dedupe then redis.call('SET', dedupe_key, joined, 'EX', dedupe_ttl) end
return {0, joined, table.concat(superseded, ',')}
