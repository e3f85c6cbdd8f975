--[[
  Gives a concurrency slot back and hands every free slot of the group to the
  runs at the head of its waiting line: each becomes 'r:<runId>' in the held
  set (lapsing after a lease, see slot-take-2), and the caller adds the job
  that starts it. With no token, only hands over (the reconciler's look at a
  group whose holders may have died).
  KEYS[1] held slots (ZSET)  KEYS[2] waiting runs (ZSET); one {group} slot
  ARGV[1] lease token whose slot is given back ('' = none)
  ARGV[2] run id that leaves the group: its place in line and its hand-over go ('' = none)
  ARGV[3] limit  ARGV[4] lease (ms)
  Returns {handed, waiting, handovers, next}: the run ids handed a slot now, how many
  runs still wait, the run ids of every hand-over pending (these included), and when
  the earliest held slot lapses (ms, Redis clock; 0 when none is held).
]]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
if ARGV[1] ~= '' then redis.call('ZREM', KEYS[1], ARGV[1]) end
if ARGV[2] ~= '' then
  redis.call('ZREM', KEYS[1], 'r:' .. ARGV[2])
  redis.call('ZREM', KEYS[2], ARGV[2])
end
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
  redis.call('ZREM', KEYS[1], member)
  if string.sub(member, 1, 2) == 'r:' then redis.call('ZADD', KEYS[2], 0, string.sub(member, 3)) end
end
local handed = {}
local free = tonumber(ARGV[3]) - redis.call('ZCARD', KEYS[1])
while free > 0 do
  local head = redis.call('ZPOPMIN', KEYS[2])
  if #head == 0 then break end
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), 'r:' .. head[1])
  handed[#handed + 1] = head[1]
  free = free - 1
end
local handovers = {}
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if string.sub(member, 1, 2) == 'r:' then handovers[#handovers + 1] = string.sub(member, 3) end
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {handed, redis.call('ZCARD', KEYS[2]), handovers, first[2] or 0}
