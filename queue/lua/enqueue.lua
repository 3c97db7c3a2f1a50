-- Enqueue the jobs of one or more deliveries, each delivery atomically, with dedupe on its delivery id
-- and coalescing by coalesce key. Deliveries are handled in order, as if each had its own call: one
-- call for a batch saves Redis the per-call work (and the AOF its MULTI/EXEC) of each.
-- ARGV[3] max_attempts, ARGV[4] dedupe ttl (s), ARGV[5] number of deliveries m. Then per delivery:
-- '1' when dedupe applies, n, and per job 5 values: spec, kind, head_sha, replay_of, has_coalesce_key.
-- KEYS from 11 on, per delivery: its dedupe key, then the coalesce pointer of each job.
-- Returns m replies {duplicate 0|1, ids joined by ',', superseded ids joined by ','}.
--
-- Most of a script's cost in Redis is per redis.call, not per byte, so the writes that only add to the
-- shared structures (the id sequence, the wait list, the index, the counters) are gathered and made once
-- per call, at its end (nothing in the call reads them before); a delivery without coalescing costs two calls
-- (its dedupe key, set only when absent, and its record). Arguments go to Redis as strings: a Lua number
-- costs a float formatting per argument.
local max_attempts = ARGV[3]
local dedupe_ttl = ARGV[4]
local m = tonumber(ARGV[5])
local now = now_ms()
local now_s = string.format('%d', now)

-- The sequence is read once and written back once; ids are its decimal values.
local seq = tonumber(redis.call('GET', K_SEQ) or '0')
local seq0 = seq
local function next_id()
  seq = seq + 1
  return string.format('%d', seq)
end

-- New jobs not yet in the wait list and the index, in creation order; counter increments by field.
local to_wait, to_index, counts = {}, {}, {}
local function bump(state, kind)
  local field = state .. '|' .. (kind or '')
  counts[field] = (counts[field] or 0) + 1
end
-- One command over a list of arguments, in slices that stay far below Lua's limit on unpacked values.
local function call_over(cmd, key, list)
  for i = 1, #list, 512 do
    redis.call(cmd, key, unpack(list, i, math.min(i + 511, #list)))
  end
end

-- Takes `old` out of the jobs of this call not yet pushed; false when it is not one of them.
local function unqueue(old)
  for i = #to_wait, 1, -1 do
    if to_wait[i] == old then
      table.remove(to_wait, i)
      return true
    end
  end
  return false
end

-- A newer job replaced `old` (state and kind as read just before).
local function supersede(old, state, kind, by)
  bump('superseded', kind)
  if state == 'queued' or state == 'retrying' then
    -- LPUSH adds on the left and workers take from the right: the older job is nearer the right.
    if state == 'queued' then
      if not unqueue(old) then redis.call('LREM', K_WAIT, -1, old) end
    else
      redis.call('ZREM', K_DELAYED, old)
    end
    finish(old, now, 'state', 'superseded', 'superseded_by', by)
  else
    -- An active job keeps its lease: its worker sees the flag and its completion (or the reaper)
    -- finishes it with the state left at superseded.
    redis.call('HSET', job_key(old), 'state', 'superseded', 'superseded_by', by, 'updated_ms', now_s)
  end
end

-- A new record holds what it has and nothing the spec already says (the repository, the delivery id): no
-- attempts yet (a missing count is 0), updated when created (readers take created_ms for a missing
-- updated_ms), head_sha and replay_of only when set. Every field costs a lookup in the record, an argument,
-- memory and AOF bytes. The scripts read kind and head_sha; the id stays for the workers of the previous
-- release, which refuse a record without one (during a rolling upgrade they claim new jobs too).
local function create(b, id)
  local kind, head, replay_of = ARGV[b + 1], ARGV[b + 2], ARGV[b + 3]
  local jk = job_key(id)
  if head == '' and replay_of == '' then
    redis.call('HSET', jk, 'id', id, 'spec', ARGV[b], 'kind', kind, 'state', 'queued',
               'max_attempts', max_attempts, 'created_ms', now_s)
  else
    redis.call('HSET', jk, 'id', id, 'spec', ARGV[b], 'kind', kind, 'state', 'queued',
               'max_attempts', max_attempts, 'created_ms', now_s, 'head_sha', head, 'replay_of', replay_of)
  end
  to_wait[#to_wait + 1] = id
  to_index[#to_index + 1] = id
  to_index[#to_index + 1] = id
  bump('queued', kind)
  return id
end

-- A redelivery renews the dedupe window. It is also a write, so a WAIT after it (durability
-- replicated) covers the original enqueue, which the replication stream carried before it.
local function duplicate(dedupe_key, prev)
  redis.call('EXPIRE', dedupe_key, dedupe_ttl)
  return {1, prev, ''}
end

-- One delivery: its keys start at KEYS[k], its values at ARGV[a]. Returns the reply and the next k, a.
local function enqueue_one(k, a)
  local dedupe_key = KEYS[k]
  local has_dedupe = ARGV[a] == '1'
  local n = tonumber(ARGV[a + 1])
  local next_k, next_a = k + 1 + n, a + 2 + n * 5
  local coalescing = false
  for i = 1, n do
    if ARGV[a + 2 + (i - 1) * 5 + 4] == '1' then coalescing = true end
  end
  if not coalescing then
    -- Every job is new: the ids are known before anything is written, so the dedupe key is claimed
    -- and checked in one call.
    local ids = {}
    for i = 1, n do ids[i] = next_id() end
    local joined = table.concat(ids, ',')
    if has_dedupe then
      local prev = redis.call('SET', dedupe_key, joined, 'NX', 'GET', 'EX', dedupe_ttl)
      if prev then
        seq = seq - n  -- a duplicate takes no ids
        return duplicate(dedupe_key, prev), next_k, next_a
      end
    end
    for i = 1, n do create(a + 2 + (i - 1) * 5, ids[i]) end
    return {0, joined, ''}, next_k, next_a
  end
  if has_dedupe then
    local prev = redis.call('GET', dedupe_key)
    if prev then return duplicate(dedupe_key, prev), next_k, next_a end
  end
  local ids, superseded = {}, {}
  for i = 1, n do
    local b = a + 2 + (i - 1) * 5
    local head, has_ck = ARGV[b + 2], ARGV[b + 4] == '1'
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
      id = create(b, next_id())
      if older then
        supersede(older, older_state, older_kind, id)
        superseded[#superseded + 1] = older
      end
      if has_ck then redis.call('SET', ck, id, 'EX', ARGV[2]) end
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

call_over('LPUSH', K_WAIT, to_wait)
call_over('ZADD', K_INDEX, to_index)  -- score and member pairs: the slices are even
if seq ~= seq0 then redis.call('SET', K_SEQ, string.format('%d', seq)) end
for field, c in pairs(counts) do redis.call('HINCRBY', K_COUNTS, field, string.format('%d', c)) end
return replies
