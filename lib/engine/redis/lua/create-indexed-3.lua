--[[
  create-1.lua plus the flow index entry and the run's timer, in one round
  trip. Used when the three keys can meet in one script (not on a Redis
  Cluster, where they live in different slots and are written by other calls).
  KEYS[1] run hash  KEYS[2] the flow's index (sorted set)  KEYS[3] timers (sorted set)
  ARGV[1] flowId  ARGV[2] encoded input ('' = none)  ARGV[3] createdAt (ms)
  ARGV[4] index score  ARGV[5] runId  ARGV[6] timer (ms: when a worker must have taken the run)
  ARGV[7] whole-run timeout (ms, '' = none)  ARGV[8] request id (random per call)
  ARGV[9] W3C traceparent of the triggering span ('' = none; sent only with tracing on)
  ARGV[10..] more run fields, as field/value pairs (scheduleId, slotAt; a child's parentRunId, parentStep, wakeParent)
  Returns 1 created (also for a resend of the creating call, see create-1.lua), 0 already there.
]]
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('HGET', KEYS[1], 'createdBy') == ARGV[8] and 1 or 0
end
redis.call('HSET', KEYS[1], 'flowId', ARGV[1], 'status', 'queued', 'createdAt', ARGV[3], 'updatedAt', ARGV[3], 'executions', 0, 'createdBy', ARGV[8])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'input', ARGV[2]) end
if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'timeoutMs', ARGV[7]) end
if ARGV[9] and ARGV[9] ~= '' then redis.call('HSET', KEYS[1], 'traceparent', ARGV[9]) end
if #ARGV > 9 then redis.call('HSET', KEYS[1], unpack(ARGV, 10)) end
redis.call('ZADD', KEYS[2], 'NX', ARGV[4], ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[5])
return 1
