--[[
  Takes the lease of a run for one execution and returns its whole state
  (run fields and every step, which live in the same hash as 's:<key>'), so
  an execution costs one round trip to load however many steps are done.
  KEYS[1] run hash
  ARGV[1] token  ARGV[2] now (ms, for timestamps)  ARGV[3] lease (ms)
  ARGV[4] request id of the trigger whose job this is ('' = not a trigger's job)
  Lease times use the Redis server's clock, so workers' clock skew cannot
  shorten or stretch another worker's lease.
  Returns {1, fields, takeover}  claimed; takeover 1 when another execution's lease lapsed while it held
                                 the run (running, neither released nor parked: it blocked or died), else 0
          {0}          no such run
          {2, status, slotGroup}  run already finished (slotGroup: the concurrency group it waited in, '' = none)
          {3, msLeft}  another execution holds an unexpired lease
          {4, fields}  claimed, but a cancel was requested (its node died): end it cancelled, run nothing
          {5, fields}  claimed, but past its whole-run deadline: fail it with FlowTimeoutError, run nothing
          {6}          a spare trigger job: a repeated trigger of a run already under way (trigger adds its
                       job without waiting to learn whether the run was new); nothing changed
  The first claim of a run with a timeoutMs fixes its deadline (now + timeoutMs: its first start,
  or its first start after a retry, which clears the deadline).
  A claimed run no longer waits for a concurrency slot: its slotWaitAt (wait-for-slot-1) goes, in the
  HDEL already made for wakeAt. slotGroup stays: a later execution that finds the run finished needs it.
]]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {0} end
if status == 'completed' or status == 'failed' or status == 'cancelled' then return {2, status, redis.call('HGET', KEYS[1], 'slotGroup') or ''} end
-- The creating trigger's own job (also when BullMQ re-runs it after a crash) and any job of a run
-- still queued (a repeated trigger healing a lost job) go on; a repeat's job for a started run does not.
if ARGV[4] and ARGV[4] ~= '' and status ~= 'queued' and redis.call('HGET', KEYS[1], 'createdBy') ~= ARGV[4] then return {6} end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local holder = redis.call('HGET', KEYS[1], 'lease')
local leaseEnd = tonumber(redis.call('HGET', KEYS[1], 'leaseUntil') or '0')
if holder and holder ~= ARGV[1] and leaseEnd > now then
  return {3, leaseEnd - now}
end
redis.call('HSET', KEYS[1], 'lease', ARGV[1], 'leaseUntil', now + tonumber(ARGV[3]), 'status', 'running', 'updatedAt', ARGV[2])
redis.call('HSETNX', KEYS[1], 'startedAt', ARGV[2])
redis.call('HDEL', KEYS[1], 'wakeAt', 'slotWaitAt')
-- A resent claim (its reply was lost) finds its own token: same execution, not counted twice.
if holder ~= ARGV[1] then redis.call('HINCRBY', KEYS[1], 'executions', 1) end
if redis.call('HEXISTS', KEYS[1], 'cancelRequested') == 1 then return {4, redis.call('HGETALL', KEYS[1])} end
local timeoutMs = redis.call('HGET', KEYS[1], 'timeoutMs')
if timeoutMs then
  redis.call('HSETNX', KEYS[1], 'deadline', tonumber(ARGV[2]) + tonumber(timeoutMs))
  if tonumber(redis.call('HGET', KEYS[1], 'deadline')) <= tonumber(ARGV[2]) then return {5, redis.call('HGETALL', KEYS[1])} end
end
return {1, redis.call('HGETALL', KEYS[1]), (holder and holder ~= ARGV[1]) and 1 or 0}
