--[[
  Records the id of the queue job that will wake a run (the reconciler's own
  re-enqueue), so the next pass can see that job waiting instead of adding
  another. Never creates a record for a run that is gone.
  KEYS[1] run hash
  ARGV[1] job id
  Returns 1 recorded, 0 no such run.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'resumeJob', ARGV[1])
return 1
