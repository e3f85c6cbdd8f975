--[[
  The slot's heartbeat, beside the lease's: an execution's slot lapses a lease
  after its last renewal, so a dead worker's slot frees with its lease.
  KEYS[1] held slots (ZSET)
  ARGV[1] lease token  ARGV[2] lease (ms)
  Returns 1 extended, 0 gone: it lapsed (the execution stalled past its lease)
  and was dropped, so the run no longer counts against the cap.
]]
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local clock = redis.call('TIME')
redis.call('ZADD', KEYS[1], tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000) + tonumber(ARGV[2]), ARGV[1])
return 1
