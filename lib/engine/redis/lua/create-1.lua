--[[
  Creates a run record unless the run id exists (idempotent trigger).
  KEYS[1] run hash
  ARGV[1] flowId  ARGV[2] encoded input ('' = none)  ARGV[3] createdAt (ms)
  ARGV[4] whole-run timeout (ms, '' = none)  ARGV[5] request id (random per call)
  ARGV[6] W3C traceparent of the triggering span ('' = none; sent only with tracing on)
  ARGV[7..] more run fields, as field/value pairs (scheduleId, slotAt; a child's parentRunId, parentStep, wakeParent)
  Returns 1 created (also for a resend of the creating call), 0 already there.
  ioredis re-sends a command whose reply was lost; the request id kept in the
  run (createdBy) lets that resend answer "created" to the only caller.
]]
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('HGET', KEYS[1], 'createdBy') == ARGV[5] and 1 or 0
end
redis.call('HSET', KEYS[1], 'flowId', ARGV[1], 'status', 'queued', 'createdAt', ARGV[3], 'updatedAt', ARGV[3], 'executions', 0, 'createdBy', ARGV[5])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'input', ARGV[2]) end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'timeoutMs', ARGV[4]) end
if ARGV[6] and ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'traceparent', ARGV[6]) end
if #ARGV > 6 then redis.call('HSET', KEYS[1], unpack(ARGV, 7)) end
return 1
