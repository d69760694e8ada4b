-- wrk script for benchmarks/api.py: the same closed-loop load for the baseline and for habeas.
--
--   wrk -t1 -c50 -d30s -s api_load.lua http://127.0.0.1:PORT -- MODE FILE TOKEN START
--
-- MODE "ping": GET /ping (the minimal endpoint; FILE, TOKEN unused).
-- MODE "lookup": GET /api/v1/people/{id}, ids one a line in FILE, chosen at random.
-- MODE "admit": POST /api/v1/admissions, the JSON body template in FILE with @N@ (a number unique to
--   the request, from START up) and @UUID@ (a fresh instrument id) filled in for every request.
-- done() prints one line "RESULT {json}" that benchmarks/api.py reads.

local mode, token, template
local ids = {}
local counter = 0

function setup(thread)
  thread:set("thread_index", setup_index or 0)
  setup_index = (setup_index or 0) + 1
end

function init(args)
  mode, token = args[1], args[3]
  local start = tonumber(args[4] or "0")
  -- Threads must not send the same synthetic person twice.
  counter = start + (thread_index or 0) * 1e9
  math.randomseed(start + (thread_index or 0))
  if mode == "lookup" then
    for line in io.lines(args[2]) do
      ids[#ids + 1] = line
    end
  elseif mode == "admit" then
    local f = assert(io.open(args[2], "r"))
    template = f:read("*a")
    f:close()
  end
end

local function uuid4()
  local r = math.random
  return string.format("%08x-%04x-4%03x-%04x-%06x%06x",
    r(0, 0xffffffff), r(0, 0xffff), r(0, 0xfff), r(0x8000, 0xbfff), r(0, 0xffffff), r(0, 0xffffff))
end

function request()
  if mode == "ping" then
    return wrk.format("GET", "/ping")
  end
  local headers = { ["Authorization"] = "Bearer " .. token }
  if mode == "lookup" then
    return wrk.format("GET", "/api/v1/people/" .. ids[math.random(#ids)], headers)
  end
  counter = counter + 1
  headers["Content-Type"] = "application/json"
  local body = template:gsub("@N@", string.format("%015d", counter)):gsub("@UUID@", uuid4())
  return wrk.format("POST", "/api/v1/admissions", headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "non2xx": %d, "timeouts": %d, '
      .. '"socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.status, e.timeout,
    e.connect + e.read + e.write))
end
