--[[
  Parks a run until wakeAt: status sleeping, lease given up. The caller then
  adds the resume job whose id it records here (resumeJob), so the reconciler
  can tell a run whose job waits in a backlog from one that has none; if the
  caller dies before adding it, the queue's stalled-job recovery replays the
  run, which parks it again.
  KEYS[1] run hash
  ARGV[1] token  ARGV[2] now (ms)  ARGV[3] wakeAt (ms)  ARGV[4] resume job id (unique per call)
  ARGV[5..] 's:<step key>', step JSON pairs
  Returns 1 parked (or already parked by this very call), -1 lease lost,
  {-2, reason} a cancel was requested (nothing written).
  Safe to run twice (ioredis re-sends a command whose reply was lost): the
  resend must not answer "lease lost", or the caller would skip the resume job.
]]
-- Resend of this call: the job id is unique per call, so finding it parked with it proves it.
local parked = redis.call('HMGET', KEYS[1], 'status', 'wakeAt', 'resumeJob')
if parked[3] == ARGV[4] and parked[1] == 'sleeping' and parked[2] == ARGV[3] then return 1 end
if redis.call('HGET', KEYS[1], 'lease') ~= ARGV[1] then return -1 end
-- Run control: once a cancel is requested, only the cancelled ending may land.
local cancelRequested = redis.call('HGET', KEYS[1], 'cancelRequested')
if cancelRequested then return {-2, cancelRequested} end
if #ARGV > 4 then redis.call('HSET', KEYS[1], unpack(ARGV, 5)) end
redis.call('HSET', KEYS[1], 'status', 'sleeping', 'wakeAt', ARGV[3], 'updatedAt', ARGV[2], 'resumeJob', ARGV[4])
redis.call('HDEL', KEYS[1], 'lease', 'leaseUntil')
return 1
