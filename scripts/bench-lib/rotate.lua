-- wrk script for scripts/bench: every request takes the next (Host, path) pair, round-robin,
-- so the load spreads over every page of every site.
--
-- Usage: wrk ... -s rotate.lua http://127.0.0.1:PORT/ -- PAIRS_FILE [ACCEPT_ENCODING]
-- PAIRS_FILE has one "host<TAB>path" per line (path already URL-encoded as sent on the wire).
-- ACCEPT_ENCODING, when given, is sent as the Accept-Encoding header (as a browser would);
-- without it every answer is the identity body.
-- done() prints one machine-readable line, "bench-result: ...", that scripts/bench parses;
-- wrk's own summary (with --latency) is printed above it as usual.

local threads = {}
local counter = 0

-- Runs once per thread in the main Lua state: number the threads so they start at
-- different points of the rotation.
function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

local requests = {}
local n = 0
local i = 0

-- Runs in each thread's own Lua state: read the pairs and pre-format every request once,
-- so wrk spends as little CPU as possible per request (it shares the cores with the server).
function init(args)
   local file = args[1]
   if not file then
      error("rotate.lua: pass the pairs file after --")
   end
   local encoding = args[2]
   for line in io.lines(file) do
      local host, path = line:match("^([^\t]+)\t(.+)$")
      if host then
         n = n + 1
         requests[n] = wrk.format("GET", path, { Host = host, ["Accept-Encoding"] = encoding })
      end
   end
   if n == 0 then
      error("rotate.lua: no pairs in " .. file)
   end
   i = ((id or 0) * 7) % n
end

function request()
   i = i % n + 1
   return requests[i]
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "bench-result: requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d max_us=%d " ..
      "non2xx3xx=%d connect_err=%d read_err=%d write_err=%d timeout_err=%d bytes=%d\n",
      summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
      latency:percentile(50), latency:percentile(99), latency.max,
      e.status, e.connect, e.read, e.write, e.timeout, summary.bytes))
end
