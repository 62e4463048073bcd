-- GCRA: take up to `wanted` slots of the number's rate, none unless `least` are free.
-- KEYS[1] bucket; ARGV now_ms, interval_ms, burst_ms, wanted, least -> {granted, wait_ms}
local now, interval = tonumber(ARGV[1]), tonumber(ARGV[2])
local burst, wanted = tonumber(ARGV[3]), tonumber(ARGV[4])
local least = math.max(1, math.min(wanted, tonumber(ARGV[5] or '1')))
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local room = math.floor((now + burst - tat) / interval)
if room < least then
  return {0, tostring(math.max(0, tat + least * interval - burst - now))}
end
local granted = math.min(room, wanted)
tat = tat + granted * interval
redis.call('SET', KEYS[1], tostring(tat), 'PX', math.ceil(tat - now + burst + 1000))
return {granted, tostring(math.max(0, tat + least * interval - burst - now))}
