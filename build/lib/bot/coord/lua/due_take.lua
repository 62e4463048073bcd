-- Take due ids without removing them: each one's score moves to the end of its lease.
-- KEYS[1] queue; ARGV now, lease_until, limit -> ids
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], id) end
return ids
