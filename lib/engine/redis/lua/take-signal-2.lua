--[[
  Decides a signal wait, fenced by the lease: exactly one of {signal,
  timeout} resolves it, because both are judged here, atomically.
  1. A signal of that name is held: take the oldest, record the step
     completed with it (its recorded result, so replays return it).
  2. Else, when the wait has a timeout and now >= it: record the step
     completed with null (a later signal stays in the mailbox).
  3. Else record the step waiting and mark the run as waiting for the name,
     so the signal script wakes it.
  The execution's deferred steps are written first, in the same call.
  KEYS[1] run hash  KEYS[2] mailbox hash (fields: see signal-2.lua)
  ARGV[1] token  ARGV[2] step field ('s:<key>')  ARGV[3] signal name  ARGV[4] now (ms)
  ARGV[5] timeout (ms since the epoch, '' = none)
  ARGV[6] ARGV[7] the received record around the signal (before, after)
  ARGV[8] the timed-out record  ARGV[9] the waiting record
  ARGV[10..] 's:<step key>', step JSON pairs (deferred steps)
  Returns {1, signal}  received
          {2}          timed out
          {0}          waiting
          {-1}         lease lost (nothing written)
          {-2, reason} a cancel was requested (nothing written, no signal taken)
]]
if redis.call('HGET', KEYS[1], 'lease') ~= ARGV[1] then return {-1} end
-- Run control: a run with a cancel request takes no signal and records no step.
local cancelRequested = redis.call('HGET', KEYS[1], 'cancelRequested')
if cancelRequested then return {-2, cancelRequested} end
if #ARGV > 9 then redis.call('HSET', KEYS[1], unpack(ARGV, 10)) end
local name = ARGV[3]
local head = tonumber(redis.call('HGET', KEYS[2], 'h:' .. name) or '0')
local tail = tonumber(redis.call('HGET', KEYS[2], 't:' .. name) or '0')
if head < tail then
  local field = 'm:' .. name .. ':' .. (head + 1)
  local signal = redis.call('HGET', KEYS[2], field)
  redis.call('HDEL', KEYS[2], field, 'w:' .. name)
  if head + 1 == tail then
    redis.call('HDEL', KEYS[2], 'h:' .. name, 't:' .. name)
  else
    redis.call('HSET', KEYS[2], 'h:' .. name, head + 1)
  end
  if redis.call('HINCRBY', KEYS[2], 'n', -1) <= 0 then redis.call('HDEL', KEYS[2], 'n') end
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[6] .. cjson.encode(signal) .. ARGV[7])
  return {1, signal}
end
if ARGV[5] ~= '' and tonumber(ARGV[4]) >= tonumber(ARGV[5]) then
  redis.call('HDEL', KEYS[2], 'w:' .. name)
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[8])
  return {2}
end
redis.call('HSET', KEYS[2], 'w:' .. name, 1)
redis.call('HSET', KEYS[1], ARGV[2], ARGV[9])
return {0}
