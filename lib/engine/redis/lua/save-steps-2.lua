--[[
  Records finished (or retrying) steps if the caller still holds the lease,
  and extends the lease (on the server's clock): every step write doubles as a heartbeat.
  KEYS[1] run hash  KEYS[2] steps hash
  ARGV[1] token  ARGV[2] now (ms)  ARGV[3] lease (ms)  ARGV[4..] step key, step JSON pairs
  Returns 1 saved, -1 lease lost (nothing written).
]]
if redis.call('HGET', KEYS[1], 'lease') ~= ARGV[1] then return -1 end
if #ARGV > 3 then redis.call('HSET', KEYS[2], unpack(ARGV, 4)) end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[2], 'leaseUntil', now + tonumber(ARGV[3]))
return 1
