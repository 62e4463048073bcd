-- KEYS[1] the subscriber's lock; ARGV token, lock ms -> 1 if taken
return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
