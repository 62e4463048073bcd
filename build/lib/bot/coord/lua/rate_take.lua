-- GCRA: take up to `wanted` slots of the number's rate.
-- KEYS[1] bucket; ARGV now_ms, interval_ms, burst_ms, wanted -> {granted, wait_ms}
local now, interval = tonumber(ARGV[1]), tonumber(ARGV[2])
local burst, wanted = tonumber(ARGV[3]), tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local room = math.floor((now + burst - tat) / interval)
if room < 0 then room = 0 end
local granted = math.min(room, wanted)
if granted > 0 then
  tat = tat + granted * interval
  redis.call('SET', KEYS[1], tostring(tat), 'PX', math.ceil(tat - now + burst + 1000))
end
return {granted, tostring(math.max(0, tat + interval - burst - now))}
