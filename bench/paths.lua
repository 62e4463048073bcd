-- GETs a list of paths (one per line, e.g. /l/Ab3dEf9h) in turn, without following redirects;
-- prints the totals as JSON, with how many answers were not 302.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  i = 0
  non302 = 0
  for line in io.lines(args[1]) do
    paths[#paths + 1] = line
  end
end

function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], {["User-Agent"] = "Mozilla/5.0 (iPhone) Mobile/15E148"})
end

function response(status, headers, body)
  if status ~= 302 then
    non302 = non302 + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non302")
  end
  io.write(string.format('JSON {"requests": %d, "duration_us": %d, "non_302": %d}\n',
    summary.requests, summary.duration, bad))
end
