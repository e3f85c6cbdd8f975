--[[
  Creates a run record unless the run id exists (idempotent trigger).
  KEYS[1] run hash
  ARGV[1] flowId  ARGV[2] encoded input ('' = none)  ARGV[3] createdAt (ms)
  ARGV[4] whole-run timeout (ms, '' = none)
  Returns 1 created, 0 already there.
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'flowId', ARGV[1], 'status', 'queued', 'createdAt', ARGV[3], 'updatedAt', ARGV[3], 'executions', 0)
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'input', ARGV[2]) end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'timeoutMs', ARGV[4]) end
return 1
