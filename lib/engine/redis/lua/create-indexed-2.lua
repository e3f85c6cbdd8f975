--[[
  create-1.lua plus the flow index entry, in one round trip. Used when both
  keys can meet in one script (not on a Redis Cluster, where they live in
  different slots and the index is written by a second call).
  KEYS[1] run hash  KEYS[2] the flow's index (sorted set)
  ARGV[1] flowId  ARGV[2] encoded input ('' = none)  ARGV[3] createdAt (ms)
  ARGV[4] index score  ARGV[5] runId
  Returns 1 created, 0 already there.
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'flowId', ARGV[1], 'status', 'queued', 'createdAt', ARGV[3], 'updatedAt', ARGV[3], 'executions', 0)
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'input', ARGV[2]) end
redis.call('ZADD', KEYS[2], 'NX', ARGV[4], ARGV[5])
return 1
