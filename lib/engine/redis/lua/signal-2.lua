--[[
  Stores a signal in a run's mailbox, FIFO per name, unless the run is
  unknown or finished or the mailbox is full. Nothing is dropped: a refused
  signal is reported, never stored in part.
  Mailbox hash fields: n (signals held), t:<name> (seq of the newest),
  h:<name> (seq of the last taken), m:<name>:<seq> (the signal),
  w:<name> (the run waits for this name).
  KEYS[1] run hash  KEYS[2] mailbox hash
  ARGV[1] name  ARGV[2] encoded signal  ARGV[3] most signals the mailbox may hold
  Returns {1, wake}   stored; wake = 1 when the run sleeps waiting for this name
          {0}         no such run
          {2, status} run already finished
          {3}         mailbox full
]]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {0} end
if status == 'completed' or status == 'failed' or status == 'cancelled' then return {2, status} end
if tonumber(redis.call('HGET', KEYS[2], 'n') or '0') >= tonumber(ARGV[3]) then return {3} end
local seq = redis.call('HINCRBY', KEYS[2], 't:' .. ARGV[1], 1)
redis.call('HSET', KEYS[2], 'm:' .. ARGV[1] .. ':' .. seq, ARGV[2])
redis.call('HINCRBY', KEYS[2], 'n', 1)
local wake = 0
if status == 'sleeping' and redis.call('HEXISTS', KEYS[2], 'w:' .. ARGV[1]) == 1 then wake = 1 end
return {1, wake}
