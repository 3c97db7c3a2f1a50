-- A worker stops cleanly: return anything its fetchers hold unclaimed and forget them.
-- ARGV[3..] fetcher names. Returns how many ids went back to the wait list.
local moved = 0
for i = 3, #ARGV do
  local fk = fetched_key(ARGV[i])
  while redis.call('LMOVE', fk, K_WAIT, 'RIGHT', 'RIGHT') do moved = moved + 1 end
  redis.call('ZREM', K_WORKERS, ARGV[i])
end
return moved
