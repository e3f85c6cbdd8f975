--[[
  Gives a run back (graceful shutdown): queued again, lease cleared, so the
  next worker that gets its job claims it at once instead of waiting out the lease.
  KEYS[1] run hash
  ARGV[1] token  ARGV[2] now (ms)  ARGV[3] id of the resume job the caller adds next (for the reconciler)
  ARGV[4..] 's:<step key>', step JSON pairs rewinding the attempts stopped by the hand-back
            (an empty value deletes the step: the attempt was its first)
  Returns 1 released, -1 lease not held.
  A resend (lost reply) answers -1, which callers ignore: the run was released.
]]
if redis.call('HGET', KEYS[1], 'lease') ~= ARGV[1] then return -1 end
for i = 4, #ARGV, 2 do
  if ARGV[i + 1] == '' then redis.call('HDEL', KEYS[1], ARGV[i]) else redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
redis.call('HSET', KEYS[1], 'status', 'queued', 'updatedAt', ARGV[2], 'resumeJob', ARGV[3])
redis.call('HDEL', KEYS[1], 'lease', 'leaseUntil')
return 1
