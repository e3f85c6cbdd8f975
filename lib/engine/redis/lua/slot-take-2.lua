--[[
  Takes a concurrency slot of a group (one flow, one key) for an execution, or
  puts its run in the group's waiting line. A slot is a member of the held set
  scored by when it lapses (Redis clock): the execution's lease token, renewed
  with the lease (slot-extend-1), or 'r:<runId>', a slot handed over to a
  waiting run whose execution has not started yet (slot-free-2). A lapsed
  token is a dead execution's slot: dropped. A lapsed hand-over (its job lost
  or late) puts the run back at the head of the line, so it is handed again.
  KEYS[1] held slots (ZSET)  KEYS[2] waiting runs (ZSET, FIFO by score); one {group} slot
  ARGV[1] lease token  ARGV[2] run id  ARGV[3] limit  ARGV[4] lease (ms)
  ARGV[5] 'take': take a slot if there is one, change nothing else
          'join': the run is parked; reserve a free slot for it, or else line it up
  ARGV[6] the run's place in the line (its creation time: earlier runs go first)
  Returns {1}  taken (also a resend, or the run's own hand-over turned into its slot)
          {0}  full ('take'): nothing changed
          {2}  lined up ('join'; a run already in line keeps its place)
          {3}  a slot is reserved for the run ('join'): the caller adds the job that starts it
]]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local lapse = now + tonumber(ARGV[4])
local handover = 'r:' .. ARGV[2]
local take = ARGV[5] == 'take'
if take and redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], lapse, ARGV[1])
  return {1}
end
local reserved = tonumber(redis.call('ZSCORE', KEYS[1], handover) or '0')
if reserved > now then
  if not take then return {3} end
  redis.call('ZREM', KEYS[1], handover)
  redis.call('ZADD', KEYS[1], lapse, ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[2])
  return {1}
end
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
  redis.call('ZREM', KEYS[1], member)
  if string.sub(member, 1, 2) == 'r:' then redis.call('ZADD', KEYS[2], 0, string.sub(member, 3)) end
end
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZREM', KEYS[2], ARGV[2])
  if take then
    redis.call('ZADD', KEYS[1], lapse, ARGV[1])
    return {1}
  end
  redis.call('ZADD', KEYS[1], lapse, handover)
  return {3}
end
if take then return {0} end
redis.call('ZADD', KEYS[2], 'NX', ARGV[6], ARGV[2])
return {2}
