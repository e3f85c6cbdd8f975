--[[
  Hands back a run whose flow this node does not have (renamed or removed in
  a deploy, or a rolling deploy under way): queued again with its lease
  cleared, and the claim that took it uncounted, since no flow code ran (the
  first claim's startedAt goes with it). The first hand-back stamps
  unknownFlowSince, from which the grace before UnknownFlowError counts;
  retry and a node that has the flow clear it.
  KEYS[1] run hash
  ARGV[1] token  ARGV[2] now (ms)  ARGV[3] id of the resume job the caller adds next (for the reconciler)
  Returns {1, since}  handed back for the first time (since = now)
          {2, since}  handed back again; since = the first hand-back's time
          -1          lease not held (nothing written)
]]
if redis.call('HGET', KEYS[1], 'lease') ~= ARGV[1] then return -1 end
redis.call('HSET', KEYS[1], 'status', 'queued', 'updatedAt', ARGV[2], 'resumeJob', ARGV[3])
redis.call('HDEL', KEYS[1], 'lease', 'leaseUntil')
if redis.call('HINCRBY', KEYS[1], 'executions', -1) <= 0 then redis.call('HDEL', KEYS[1], 'startedAt') end
local first = redis.call('HSETNX', KEYS[1], 'unknownFlowSince', ARGV[2])
return {first == 1 and 1 or 2, redis.call('HGET', KEYS[1], 'unknownFlowSince')}
