-- Store the reply for replays and let go of the lock, if it is still ours.
-- KEYS[1] the sid's claim, KEYS[2] the subscriber's lock; ARGV token, reply, replay ms
redis.call('SET', KEYS[1], 'R' .. ARGV[2], 'PX', ARGV[3])
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1
