-- POST bodies for intake's public submission API: 2 comments, an e-mail that differs per request.
-- The path comes from the URL given to wrk; the summary is printed as one JSON line for bench/intake_wrk.py.
local counter = 0
local threads = {}

function setup(thread)
   thread:set("tid", #threads + 1)
   table.insert(threads, thread)
end

function init(args)
   prefix = "w" .. tid .. "-" .. math.random(1, 1000000000)
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local template = '{"submitter":{"name":"Osoba testowa","email":"%s-%d@example.org","publish_consent":false},'
   .. '"comments":[{"section":"§ 5 ust. 2","current_text":"Obecne brzmienie.","proposal":"Propozycja %d",'
   .. '"justification":"Uzasadnienie."},{"section":"§ 7","proposal":"Skreślić ust. 3.","justification":"Zbędny."}]}'

function request()
   counter = counter + 1
   return wrk.format(nil, nil, nil, string.format(template, prefix, counter, counter))
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,'
      .. '"max_us":%d,"non2xx":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, e.status, e.connect, e.read, e.write, e.timeout))
end
