--[[
  Ends a run (completed, failed or cancelled) once, fenced by the lease, and starts the
  retention clock on its key and on its mailbox (signals never taken expire with the run).
  KEYS[1] run hash  KEYS[2] the run's mailbox (same {runId} slot)
  KEYS[3] timers, KEYS[4] wakes (sorted sets): only off a Cluster, where they can meet the
          run in one script; the run leaves both here instead of in a call of its own
  ARGV[1] token  ARGV[2] now (ms)  ARGV[3] status  ARGV[4] output ('' = none)
  ARGV[5] error JSON ('' = none)  ARGV[6] retention (ms, 0 = keep)
  ARGV[7] n: how many of the next arguments rewind steps  ARGV[8..7+n] 's:<step key>', step JSON pairs
          rewinding attempts cut off by this ending (an empty value deletes the step: the attempt was its first)
  ARGV[8+n..] 's:<step key>', step JSON pairs
  Returns 1 finished (or already finished by this very call), -1 lease lost,
  {-2, reason} a cancel was requested (nothing written; finish again with
  status 'cancelled', which this check lets through).
  Safe to run twice: ioredis re-sends a command whose reply was lost on a
  dropped connection. The first run gave up the lease, so the resend would
  read "lease lost" and the caller would skip the run's hooks; the finishing
  token is kept (finishedBy) so the resend answers as the first run did.
  Publishes the run id on '<prefix>:ends' (the prefix read off KEYS[1], '<prefix>:run:{<runId>}'),
  which wakes waitForRun callers at once; nothing depends on the message arriving.
]]
-- Resend of this call: the same token already ended the run.
if redis.call('HGET', KEYS[1], 'finishedBy') == ARGV[1] then
  return redis.call('HGET', KEYS[1], 'status') == ARGV[3] and 1 or -1
end
if redis.call('HGET', KEYS[1], 'lease') ~= ARGV[1] then return -1 end
-- Run control: once a cancel is requested, only the cancelled ending may land.
local cancelRequested = redis.call('HGET', KEYS[1], 'cancelRequested')
if cancelRequested and ARGV[3] ~= 'cancelled' then return {-2, cancelRequested} end
local rewinds = tonumber(ARGV[7])
if #ARGV > 7 + rewinds then redis.call('HSET', KEYS[1], unpack(ARGV, 8 + rewinds)) end
for i = 8, 7 + rewinds, 2 do
  if ARGV[i + 1] == '' then redis.call('HDEL', KEYS[1], ARGV[i]) else redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
redis.call('HSET', KEYS[1], 'status', ARGV[3], 'finishedAt', ARGV[2], 'updatedAt', ARGV[2], 'finishedBy', ARGV[1])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'output', ARGV[4]) end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[5]) end
redis.call('HDEL', KEYS[1], 'lease', 'leaseUntil', 'wakeAt')
local retention = tonumber(ARGV[6])
if retention > 0 then
  redis.call('PEXPIRE', KEYS[1], retention)
  redis.call('PEXPIRE', KEYS[2], retention)
end
local prefix, runId = string.match(KEYS[1], '^(.*):run:{(.*)}$')
if prefix then redis.call('PUBLISH', prefix .. ':ends', runId) end
if KEYS[3] and runId then
  redis.call('ZREM', KEYS[3], runId)
  redis.call('ZREM', KEYS[4], runId)
end
return 1
