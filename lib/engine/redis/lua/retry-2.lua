--[[
  Sends a failed or cancelled run back to the queue, keeping its history:
  completed steps keep their results; every failed step loses its record, so
  it starts over with fresh attempts (not only the one named in the run's
  error: futures of one ctx.wait may have failed side by side, and keeping
  one would fail the retried run at once); the run's error moves
  to previousErrors (capped, without its stack); retention expiry is lifted from the run and
  its mailbox; a whole-run deadline is cleared so the next start sets a fresh one,
  and so is unknownFlowSince, so a run of a missing flow gets a fresh grace; slotWaitAt too
  (a run cancelled while it waited for a concurrency slot starts over from its job, and marks
  itself again should it have to wait).
  KEYS[1] run hash  KEYS[2] mailbox hash
  ARGV[1] now (ms)  ARGV[2] most previous errors kept
  Returns {1}         queued (the caller enqueues a job)
          {0}         no such run
          {2, status} not failed or cancelled
]]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {0} end
if status ~= 'failed' and status ~= 'cancelled' then return {2, status} end
local err = redis.call('HGET', KEYS[1], 'error')
if err then
  local previous = cjson.decode(redis.call('HGET', KEYS[1], 'previousErrors') or '[]')
  local entry = cjson.decode(err)
  entry['failedAt'] = tonumber(redis.call('HGET', KEYS[1], 'finishedAt') or '')
  entry['stack'] = nil
  table.insert(previous, entry)
  while #previous > tonumber(ARGV[2]) do table.remove(previous, 1) end
  redis.call('HSET', KEYS[1], 'previousErrors', cjson.encode(previous))
end
-- Packed steps start ["<kind>","<status>",...; 'f' = failed. A retry is rare: one pass over the hash is fine.
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  if string.sub(fields[i], 1, 2) == 's:' and string.find(fields[i + 1], '^%["%a+","f"') then
    redis.call('HDEL', KEYS[1], fields[i])
  end
end
redis.call('HSET', KEYS[1], 'status', 'queued', 'updatedAt', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'retries', 1)
redis.call('HDEL', KEYS[1], 'error', 'finishedAt', 'output', 'cancelRequested', 'deadline', 'wakeAt', 'lease', 'leaseUntil', 'unknownFlowSince', 'slotWaitAt')
redis.call('PERSIST', KEYS[1])
redis.call('PERSIST', KEYS[2])
return {1}
