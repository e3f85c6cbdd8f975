--[[
  Records the run of a schedule's slot, unless a later slot's run is recorded
  already (a slot fired late, or twice, must not move the record back).
  KEYS[1] the schedules hash
  ARGV[1] schedule id  ARGV[2] slot time (ms)  ARGV[3] run id
  Returns 1 recorded, 0 a later (or the same) slot was there.
]]
local field = 'last:' .. ARGV[1]
local current = redis.call('HGET', KEYS[1], field)
if current then
  local slot = tonumber(string.match(current, '^(%d+):'))
  if slot and slot >= tonumber(ARGV[2]) then return 0 end
end
redis.call('HSET', KEYS[1], field, ARGV[2] .. ':' .. ARGV[3])
return 1
