-- Give back slots taken but not used.
-- KEYS[1] bucket; ARGV interval_ms, count -> 1
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat > 0 then redis.call('SET', KEYS[1], tostring(tat - ARGV[2] * ARGV[1]), 'KEEPTTL') end
return 1
