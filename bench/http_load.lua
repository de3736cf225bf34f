-- wrk's script for bench/http_load.py: every request of a run is a different one.
--
-- wrk -tTHREADS ... -s bench/http_load.lua URL -- MODE RUN THREADS PATH TOKENS CODES INTERVAL
--   MODE      get (PATH, no token) | status (PATH as a different person each time) | scan
--   RUN       0 for the warm-up, 1 for the measured run: their scans never overlap
--   THREADS   wrk's -t
--   TOKENS    a file of person bearer tokens, one a line
--   CODES     a file of "window venue_index code" lines (the code runs to the end of the
--             line: base45 has spaces): every venue's place code of each window the run
--             may reach (scan)
--   INTERVAL  seconds a place code window lasts (scan)
--
-- A scan is (person, venue, window): the server refuses the same person presenting the same
-- code twice (a replay), so each thread walks its own block of (person, venue) pairs, and each
-- request sends the code of the window now, as a venue device shows it (fresh). wrk runs one
-- Lua state per thread; done() gathers the statuses each one counted and prints one JSON line.

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

local function lines(path)
   local out = {}
   for line in io.lines(path) do
      if line ~= "" then table.insert(out, line) end
   end
   return out
end

function init(args)
   mode, run, nthreads, path = args[1], tonumber(args[2]), tonumber(args[3]), args[4]
   statuses, sample, n, wrapped = {}, nil, 0, false
   if mode == "get" then return end
   tokens = lines(args[5])
   local pairs_per_block = #tokens
   if mode == "scan" then
      interval = tonumber(args[7])
      codes, venues = {}, 0
      for _, line in ipairs(lines(args[6])) do
         local window, index, code = line:match("^(%d+) (%d+) (.+)$")
         window, index = tonumber(window), tonumber(index)
         codes[window] = codes[window] or {}
         codes[window][index + 1] = code
         if index + 1 > venues then venues = index + 1 end
      end
      pairs_per_block = #tokens * venues
   end
   -- Two runs (warm-up, measured) of `nthreads` threads each share the pairs in blocks.
   block = math.floor(pairs_per_block / (2 * nthreads))
   start = (run * nthreads + id) * block
end

function request()
   if mode == "get" then
      return wrk.format("GET", path)
   end
   local pair = start + (n % block)
   n = n + 1
   local person = pair % #tokens
   local headers = { Authorization = "Bearer " .. tokens[person + 1] }
   if mode == "status" then
      return wrk.format("GET", path, headers)
   end
   -- Past its block a thread would present a pair again: replays, reported as such.
   if n > block then wrapped = true end
   local venue = math.floor(pair / #tokens) % venues
   local window = codes[math.floor(os.time() / interval)]
   local code = window and window[venue + 1] or "HCV1:no-code-prepared-for-this-window"
   headers["Content-Type"] = "application/json"
   return wrk.format("POST", path, headers, '{"code":"' .. code .. '"}')
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if status >= 300 and sample == nil then sample = body end
end

local function quoted(text)
   return '"' .. text:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

function done(summary, latency, requests)
   local counted, samples, wrapped = {}, {}, false
   for _, thread in ipairs(threads) do
      for status, count in pairs(thread:get("statuses")) do
         counted[status] = (counted[status] or 0) + count
      end
      local body = thread:get("sample")
      if body then table.insert(samples, quoted(body:sub(1, 300))) end
      wrapped = wrapped or thread:get("wrapped")
   end
   local parts = {}
   for status, count in pairs(counted) do
      table.insert(parts, string.format('"%d": %d', status, count))
   end
   local errors = summary.errors
   io.write(string.format(
      '{"requests": %d, "seconds": %.6f, "p50_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, '
         .. '"statuses": {%s}, "socket_errors": %d, "timeouts": %d, "wrapped": %s, "samples": [%s]}\n',
      summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
      latency:percentile(99) / 1e3, latency.max / 1e3, table.concat(parts, ", "),
      errors.connect + errors.read + errors.write, errors.timeout, tostring(wrapped),
      table.concat(samples, ", ")))
end
