--[[
  Stores the trace context (W3C traceparent) of the execution that holds the
  run, so the next execution's span can link to it. Only with tracing on,
  once per execution, not awaited.
  KEYS[1] run hash
  ARGV[1] lease token  ARGV[2] traceparent
  Returns 1 stored, 0 the run is gone or another execution holds it (nothing written).
]]
if redis.call('HGET', KEYS[1], 'lease') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'lastTrace', ARGV[2])
return 1
