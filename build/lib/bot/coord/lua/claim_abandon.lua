-- Give up a claim still in flight and the lock, if they are still ours.
-- KEYS[1] the sid's claim, KEYS[2] the subscriber's lock; ARGV token
if redis.call('GET', KEYS[1]) == 'P' then redis.call('DEL', KEYS[1]) end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1
