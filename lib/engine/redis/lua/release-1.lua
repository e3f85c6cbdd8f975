--[[
  Gives a run back (graceful shutdown): queued again, lease cleared, so the
  next worker that gets its job claims it at once instead of waiting out the lease.
  KEYS[1] run hash
  ARGV[1] token  ARGV[2] now (ms)
  Returns 1 released, -1 lease not held.
]]
if redis.call('HGET', KEYS[1], 'lease') ~= ARGV[1] then return -1 end
redis.call('HSET', KEYS[1], 'status', 'queued', 'updatedAt', ARGV[2])
redis.call('HDEL', KEYS[1], 'lease', 'leaseUntil')
return 1
