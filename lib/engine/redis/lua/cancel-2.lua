--[[
  Cancels a run. A parked run (queued or sleeping: no execution holds it) ends
  cancelled here, at once; its pending jobs become harmless because claim
  refuses a finished run. A running run gets a durable request instead
  (cancelRequested, cancelAt), which its execution sees through the nudge, its
  heartbeat, its next step write, its finish, or (its node dead) the next claim.
  KEYS[1] run hash  KEYS[2] the run's mailbox (same {runId} slot: its signals expire with the run)
  ARGV[1] now (ms)  ARGV[2] reason ('' = none)  ARGV[3] error JSON of the cancelled run
  ARGV[4] retention (ms, 0 = keep)
  Returns {0}                  no such run
          {1, flowId, input, parent}   cancelled now (input '' = none): the caller runs the OnFlowCancel hooks
                               and wakes `parent` ('' = none), the run waiting for this one (ctx.child)
          {2, status}          already finished: nothing changed
          {3, reason}          running: cancel requested; the stored reason (a repeated request keeps the first)
  A run cancelled here is announced on '<prefix>:ends' as finish-n.lua does.
]]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {0} end
if status == 'completed' or status == 'failed' or status == 'cancelled' then return {2, status} end
if status == 'running' then
  if redis.call('HSETNX', KEYS[1], 'cancelRequested', ARGV[2]) == 1 then
    redis.call('HSET', KEYS[1], 'cancelAt', ARGV[1])
  end
  return {3, redis.call('HGET', KEYS[1], 'cancelRequested')}
end
redis.call('HSET', KEYS[1], 'status', 'cancelled', 'finishedAt', ARGV[1], 'updatedAt', ARGV[1], 'error', ARGV[3],
  'cancelRequested', ARGV[2], 'cancelAt', ARGV[1])
redis.call('HDEL', KEYS[1], 'lease', 'leaseUntil', 'wakeAt')
local retention = tonumber(ARGV[4])
if retention > 0 then
  redis.call('PEXPIRE', KEYS[1], retention)
  redis.call('PEXPIRE', KEYS[2], retention)
end
local prefix, runId = string.match(KEYS[1], '^(.*):run:{(.*)}$')
if prefix then redis.call('PUBLISH', prefix .. ':ends', runId) end
local parent = redis.call('HGET', KEYS[1], 'wakeParent') == '1' and redis.call('HGET', KEYS[1], 'parentRunId') or ''
return {1, redis.call('HGET', KEYS[1], 'flowId'), redis.call('HGET', KEYS[1], 'input') or '', parent}
