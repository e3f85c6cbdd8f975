--[[
  Records finished (or retrying) steps if the caller still holds the lease.
  The hot path of every step: two commands, nothing else (the heartbeat, not
  each step, keeps the lease alive).
  KEYS[1] run hash
  ARGV[1] token  ARGV[2..] 's:<step key>', step JSON pairs
  Returns 1 saved, -1 lease lost (nothing written), {-2, reason} a cancel was requested (nothing written).
]]
local state = redis.call('HMGET', KEYS[1], 'lease', 'cancelRequested')
if state[1] ~= ARGV[1] then return -1 end
if state[2] then return {-2, state[2]} end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1
