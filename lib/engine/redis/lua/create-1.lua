--[[
  Creates a run record unless the run id exists (idempotent trigger).
  KEYS[1] run hash
  ARGV[1] runId  ARGV[2] flowId  ARGV[3] encoded input ('' = none)  ARGV[4] createdAt (ms)
  Returns 1 created, 0 already there.
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'runId', ARGV[1], 'flowId', ARGV[2], 'status', 'queued',
  'createdAt', ARGV[4], 'updatedAt', ARGV[4], 'executions', 0)
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'input', ARGV[3]) end
return 1
