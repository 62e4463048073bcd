-- Posts pre-made store events, one request per line: "<header>: <value>\t...\t<body>" (headers
-- optional; a line without a tab is just the body). Each wrk thread takes every n-th line, so no
-- event id is sent twice unless the file runs out ("wrapped").
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  path = args[3]
  common = {["Content-Type"] = "application/json"}
  if args[4] then common["Authorization"] = args[4] end
  lines = {}
  local i = 0
  for line in io.lines(file) do
    if i % nthreads == id then
      local headers, body = {}, line
      while true do
        local tab = body:find("\t", 1, true)
        if not tab then break end
        local header = body:sub(1, tab - 1)
        local colon = header:find(": ", 1, true)
        headers[header:sub(1, colon - 1)] = header:sub(colon + 2)
        body = body:sub(tab + 1)
      end
      lines[#lines + 1] = {headers, body}
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
  local headers = {}
  for k, v in pairs(common) do headers[k] = v end
  for k, v in pairs(item[1]) do headers[k] = v end
  return wrk.format("POST", path, headers, item[2])
end

function done(summary, latency, requests)
  local wraps = 0
  for _, thread in ipairs(threads) do wraps = wraps + (thread:get("wrapped") or 0) end
  local errors = summary.errors
  io.write(string.format(
    'JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"errors": %d, "non_2xx": %d, "wrapped": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    errors.connect + errors.read + errors.write + errors.timeout, errors.status, wraps))
end
