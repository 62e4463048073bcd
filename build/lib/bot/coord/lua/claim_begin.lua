-- Claim a MessageSid and try the subscriber's lock, in one round trip.
-- KEYS[1] the sid's claim, KEYS[2] the subscriber's lock; ARGV token, in-flight ms, lock ms
-- -> {stored claim or '', 1 if the lock was taken}
local claim = redis.call('GET', KEYS[1])
if claim then return {claim, 0} end
redis.call('SET', KEYS[1], 'P', 'PX', ARGV[2])
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[3]) then return {'', 1} end
return {'', 0}
