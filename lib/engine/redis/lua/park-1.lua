--[[
  Parks a run until wakeAt for the timer pump (no queue job): status sleeping,
  lease given up. On a Redis Cluster, where the run and the wakes set live in
  different slots: the caller then adds the wakes entry (park-timed-3.lua does
  all of it in one script elsewhere). If the caller dies before adding it, the
  run keeps its timer, and the reconciler wakes it; woken early, it parks again.
  KEYS[1] run hash
  ARGV[1] token  ARGV[2] now (ms)  ARGV[3] wakeAt (ms)
  ARGV[4..] 's:<step key>', step JSON pairs
  Returns {1, executions} parked (or already parked by this very call: a resend), -1 lease lost,
  {-2, reason} a cancel was requested (nothing written).
]]
-- A resend of this call (ioredis re-sends a command whose reply was lost) finds its own park:
-- answering "lease lost" would leave the run without its wakes entry.
local parked = redis.call('HMGET', KEYS[1], 'status', 'wakeAt', 'updatedAt', 'lease', 'executions')
if parked[1] == 'sleeping' and parked[2] == ARGV[3] and parked[3] == ARGV[2] and not parked[4] then
  return {1, tonumber(parked[5] or '0')}
end
if parked[4] ~= ARGV[1] then return -1 end
local cancelRequested = redis.call('HGET', KEYS[1], 'cancelRequested')
if cancelRequested then return {-2, cancelRequested} end
if #ARGV > 3 then redis.call('HSET', KEYS[1], unpack(ARGV, 4)) end
redis.call('HSET', KEYS[1], 'status', 'sleeping', 'wakeAt', ARGV[3], 'updatedAt', ARGV[2])
-- No queue job wakes this park: a job id left by an earlier one would only mislead the reconciler.
redis.call('HDEL', KEYS[1], 'lease', 'leaseUntil', 'resumeJob')
return {1, tonumber(parked[5] or '0')}
