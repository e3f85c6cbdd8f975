--[[
  Parks a claimed run that found its concurrency group full: queued again, its
  lease cleared, and the claim uncounted (no flow code ran; the first claim's
  startedAt and deadline go with it, so a whole-run timeout counts from the
  real start). No job stays for the run: the group's waiting line holds it
  (slot-take-2 'join', called next) and a freed slot starts it.
  KEYS[1] run hash
  ARGV[1] token  ARGV[2] now (ms)  ARGV[3] the group (JSON [flowId, key]), kept as slotGroup
  so an execution that finds the run finished can take it out of the line; now is kept as
  slotWaitAt, which marks the run as waiting in line (RunView.waitingForSlot) until claim-1
  (the next execution starts) or retry-2 drops it
  Returns {1, deadline}  parked (deadline '' = none: the run needs no timer while it waits)
          -1             lease not held (nothing written)
          {-2, reason}   a cancel was requested (nothing written): end the run cancelled
]]
if redis.call('HGET', KEYS[1], 'lease') ~= ARGV[1] then return -1 end
local cancelRequested = redis.call('HGET', KEYS[1], 'cancelRequested')
if cancelRequested then return {-2, cancelRequested} end
redis.call('HSET', KEYS[1], 'status', 'queued', 'updatedAt', ARGV[2], 'slotGroup', ARGV[3], 'slotWaitAt', ARGV[2])
redis.call('HDEL', KEYS[1], 'lease', 'leaseUntil')
if redis.call('HINCRBY', KEYS[1], 'executions', -1) <= 0 then redis.call('HDEL', KEYS[1], 'startedAt', 'deadline') end
return {1, redis.call('HGET', KEYS[1], 'deadline') or ''}
