--[[
  Extends the lease of a long-running execution.
  KEYS[1] run hash
  ARGV[1] token  ARGV[2] now (ms)  ARGV[3] lease (ms)
  Returns 1 extended, -1 lease lost.
]]
if redis.call('HGET', KEYS[1], 'lease') ~= ARGV[1] then return -1 end
redis.call('HSET', KEYS[1], 'leaseUntil', tonumber(ARGV[2]) + tonumber(ARGV[3]))
return 1
