-- Count messages already gone (replies in the webhook's answer) against the rate. Always succeeds.
-- KEYS[1] bucket; ARGV now_ms, interval_ms, count -> 1
local now, interval, count = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
tat = tat + count * interval
redis.call('SET', KEYS[1], tostring(tat), 'PX', math.ceil(tat - now + 1000))
return 1
