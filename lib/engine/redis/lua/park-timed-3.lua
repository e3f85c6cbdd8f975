--[[
  park-1.lua plus the wakes entry, in one round trip: the run's timer leaves
  the timers set (the reconciler's) for the wakes set (the timer pump's), so a
  sleeping run costs one sorted-set entry and no queue job. Used where the
  three keys can meet in one script (not on a Redis Cluster).
  KEYS[1] run hash  KEYS[2] timers (sorted set)  KEYS[3] wakes (sorted set)
  ARGV[1] token  ARGV[2] now (ms)  ARGV[3] wakeAt (ms)  ARGV[4] runId
  ARGV[5..] 's:<step key>', step JSON pairs
  Returns {1, executions} parked (or already parked by this very call: a resend), -1 lease lost,
  {-2, reason} a cancel was requested (nothing written).
]]
local parked = redis.call('HMGET', KEYS[1], 'status', 'wakeAt', 'updatedAt', 'lease', 'executions')
local executions = tonumber(parked[5] or '0')
-- The score carries the execution count (mod 1000) after the milliseconds, as digits, so that no
-- float formatting can round it: the wake-up's job id is made of it, and differs from the job
-- of the park before (still active when a run woken early by a clock ahead parks again).
local score = ARGV[3] .. string.format('%03d', executions % 1000)
-- A resend of this call (ioredis re-sends a command whose reply was lost, or the engine repeats it after a
-- blip) finds its own park, whose wakes entry went in with it: not added again, since a pump may have
-- claimed it meanwhile (a second entry would wake the run twice).
if parked[1] == 'sleeping' and parked[2] == ARGV[3] and parked[3] == ARGV[2] and not parked[4] then
  return {1, executions}
end
if parked[4] ~= ARGV[1] then return -1 end
local cancelRequested = redis.call('HGET', KEYS[1], 'cancelRequested')
if cancelRequested then return {-2, cancelRequested} end
if #ARGV > 4 then redis.call('HSET', KEYS[1], unpack(ARGV, 5)) end
redis.call('HSET', KEYS[1], 'status', 'sleeping', 'wakeAt', ARGV[3], 'updatedAt', ARGV[2])
redis.call('HDEL', KEYS[1], 'lease', 'leaseUntil', 'resumeJob')
redis.call('ZADD', KEYS[3], score, ARGV[4])
redis.call('ZREM', KEYS[2], ARGV[4])
return {1, executions}
