--[[
  The heartbeat: extends the lease of a running execution (on the server's clock),
  and records the running markers of step attempts in flight that are not in Redis yet
  (so a step that hangs shows in the run view, and a takeover counts its attempt).
  KEYS[1] run hash
  ARGV[1] token  ARGV[2] now (ms)  ARGV[3] lease (ms)  ARGV[4..] 's:<step key>', step JSON pairs (may be none)
  Returns 1 extended, -1 lease lost (nothing written), {-2, reason} a cancel was requested (the lease is still
  extended, so the execution can end the run cancelled; no marker is written, as no step write lands after a request).
]]
local state = redis.call('HMGET', KEYS[1], 'lease', 'cancelRequested')
if state[1] ~= ARGV[1] then return -1 end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('HSET', KEYS[1], 'leaseUntil', now + tonumber(ARGV[3]), 'updatedAt', ARGV[2])
if state[2] then return {-2, state[2]} end
if #ARGV > 3 then redis.call('HSET', KEYS[1], unpack(ARGV, 4)) end
return 1
