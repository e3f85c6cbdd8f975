--[[
  The heartbeat: extends the lease of a running execution (on the server's clock).
  KEYS[1] run hash
  ARGV[1] token  ARGV[2] now (ms)  ARGV[3] lease (ms)
  Returns 1 extended, -1 lease lost, {-2, reason} a cancel was requested (the lease is still
  extended, so the execution can end the run cancelled).
]]
local state = redis.call('HMGET', KEYS[1], 'lease', 'cancelRequested')
if state[1] ~= ARGV[1] then return -1 end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('HSET', KEYS[1], 'leaseUntil', now + tonumber(ARGV[3]), 'updatedAt', ARGV[2])
if state[2] then return {-2, state[2]} end
return 1
