--[[
  The heartbeat: extends the lease of a running execution (on the server's clock).
  KEYS[1] run hash
  ARGV[1] token  ARGV[2] now (ms)  ARGV[3] lease (ms)
  Returns 1 extended, -1 lease lost.
]]
if redis.call('HGET', KEYS[1], 'lease') ~= ARGV[1] then return -1 end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('HSET', KEYS[1], 'leaseUntil', now + tonumber(ARGV[3]), 'updatedAt', ARGV[2])
return 1
