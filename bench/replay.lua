-- Replays pre-signed Twilio webhook requests, one line each: "<signature>\t<form body>".
-- Each wrk thread takes every n-th line, so no MessageSid is sent twice.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  path = args[3] or "/twilio/sms"
  lines = {}
  local i = 0
  for line in io.lines(file) do
    if i % nthreads == id then
      local tab = line:find("\t", 1, true)
      lines[#lines + 1] = {line:sub(1, tab - 1), line:sub(tab + 1)}
    end
    i = i + 1
  end
  next_line = 1
  wrapped = 0
end

function request()
  local item = lines[next_line]
  next_line = next_line + 1
  if next_line > #lines then next_line = 1; wrapped = wrapped + 1 end
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = item[1],
  }, item[2])
end

function done(summary, latency, requests)
  local wraps = 0
  for _, thread in ipairs(threads) do wraps = wraps + (thread:get("wrapped") or 0) end
  local errors = summary.errors
  io.write(string.format(
    'JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"errors": %d, "non_2xx": %d, "wrapped": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, errors.connect + errors.read + errors.write + errors.timeout, errors.status, wraps))
end
