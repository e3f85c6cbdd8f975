--[[
  Parks a run until wakeAt: status sleeping, lease given up. The caller then
  schedules the resume job; if it dies before that, the queue's stalled-job
  recovery replays the run, which parks it again.
  KEYS[1] run hash
  ARGV[1] token  ARGV[2] now (ms)  ARGV[3] wakeAt (ms)  ARGV[4..] 's:<step key>', step JSON pairs
  Returns 1 parked, -1 lease lost, {-2, reason} a cancel was requested (nothing written).
]]
if redis.call('HGET', KEYS[1], 'lease') ~= ARGV[1] then return -1 end
-- Run control: once a cancel is requested, only the cancelled ending may land.
local cancelRequested = redis.call('HGET', KEYS[1], 'cancelRequested')
if cancelRequested then return {-2, cancelRequested} end
if #ARGV > 3 then redis.call('HSET', KEYS[1], unpack(ARGV, 4)) end
redis.call('HSET', KEYS[1], 'status', 'sleeping', 'wakeAt', ARGV[3], 'updatedAt', ARGV[2])
redis.call('HDEL', KEYS[1], 'lease', 'leaseUntil')
return 1
