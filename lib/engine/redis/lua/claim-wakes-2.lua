--[[
  The timer pump's claim: takes up to `limit` due entries off the wakes set
  and gives each run a reconciler timer instead (now + grace), in one atomic
  step. Between this claim and the queue job that wakes the run, the run is
  covered by that timer: a pump that dies in between loses nothing, the
  reconciler wakes the run. Two pumps never claim the same entry.
  KEYS[1] wakes (sorted set, score wakeAt * 1000 + executions mod 1000)  KEYS[2] timers (sorted set)
  ARGV[1] now (ms)  ARGV[2] limit  ARGV[3] timer for the claimed runs (ms)
  Returns {next, runId1, score1, runId2, score2, ...}: the claimed entries, and
  `next` the score of the earliest entry left ('' when none).
]]
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] .. '999', 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
local reply = {''}
if #due > 0 then
  local ids, timers = {}, {}
  for i = 1, #due, 2 do
    ids[#ids + 1] = due[i]
    timers[#timers + 1] = ARGV[3]
    timers[#timers + 1] = due[i]
    reply[#reply + 1] = due[i]
    reply[#reply + 1] = due[i + 1]
  end
  redis.call('ZREM', KEYS[1], unpack(ids))
  redis.call('ZADD', KEYS[2], unpack(timers))
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if first[2] then reply[1] = first[2] end
return reply
