-- Enqueue the jobs of one or more deliveries, each delivery atomically, with dedupe on its delivery id
-- and coalescing by coalesce key. Deliveries are handled in order, as if each had its own call: one
-- call for a batch saves Redis the per-call work (and the AOF its MULTI/EXEC) of each.
-- ARGV[3] max_attempts, ARGV[4] dedupe ttl (s), ARGV[5] number of deliveries m. Then per delivery:
-- '1' when dedupe applies, n, and per job 7 values: spec, kind, repo, head_sha, replay_of, delivery_id,
-- has_coalesce_key. KEYS from 11 on, per delivery: its dedupe key, then the coalesce pointer of each job.
-- Returns m replies {duplicate 0|1, ids joined by ',', superseded ids joined by ','}.
local max_attempts = ARGV[3]
local dedupe_ttl = tonumber(ARGV[4])
local m = tonumber(ARGV[5])
local now = now_ms()

-- A newer job replaced `old` (state and kind as read just before).
local function supersede(old, state, kind, by)
  count('superseded', kind)
  if state == 'queued' or state == 'retrying' then
    -- LPUSH adds on the left and workers take from the right: the older job is nearer the right.
    if state == 'queued' then
      redis.call('LREM', K_WAIT, -1, old)
    else
      redis.call('ZREM', K_DELAYED, old)
    end
    finish(old, now, 'state', 'superseded', 'superseded_by', by)
  else
    -- An active job keeps its lease: its worker sees the flag and its completion (or the reaper)
    -- finishes it with the state left at superseded.
    redis.call('HSET', job_key(old), 'state', 'superseded', 'superseded_by', by, 'updated_ms', now)
  end
end

-- One delivery: its keys start at KEYS[k], its values at ARGV[a]. Returns the reply and the next k, a.
local function enqueue_one(k, a)
  local dedupe_key = KEYS[k]
  local has_dedupe = ARGV[a] == '1'
  local n = tonumber(ARGV[a + 1])
  local next_k, next_a = k + 1 + n, a + 2 + n * 7
  if has_dedupe then
    local prev = redis.call('GET', dedupe_key)
    if prev then
      -- A redelivery renews the dedupe window. It is also a write, so a WAIT after it (durability
      -- replicated) covers the original enqueue, which the replication stream carried before it.
      redis.call('EXPIRE', dedupe_key, dedupe_ttl)
      return {1, prev, ''}, next_k, next_a
    end
  end
  local ids, superseded = {}, {}
  for i = 1, n do
    local b = a + 2 + (i - 1) * 7
    local spec, kind, repo, head = ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3]
    local replay_of, delivery, has_ck = ARGV[b + 4], ARGV[b + 5], ARGV[b + 6] == '1'
    local ck = KEYS[k + i]
    local id, older, older_state, older_kind = nil, nil, nil, nil
    if has_ck then
      older = redis.call('GET', ck)
      if older then
        local f = redis.call('HMGET', job_key(older), 'state', 'head_sha', 'kind')
        older_state, older_kind = f[1], f[3]
        if older_state == 'queued' and head ~= '' and f[2] == head then
          id = older
        elseif older_state ~= 'queued' and older_state ~= 'retrying' and older_state ~= 'active' then
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
        supersede(older, older_state, older_kind, id)
        superseded[#superseded + 1] = older
      end
      if has_ck then redis.call('SET', ck, id, 'EX', RETENTION_S) end
    end
    ids[#ids + 1] = id
  end
  local joined = table.concat(ids, ',')
  if has_dedupe then redis.call('SET', dedupe_key, joined, 'EX', dedupe_ttl) end
  return {0, joined, table.concat(superseded, ',')}, next_k, next_a
end

local replies, k, a = {}, 11, 6
for d = 1, m do
  replies[d], k, a = enqueue_one(k, a)
end
return replies
