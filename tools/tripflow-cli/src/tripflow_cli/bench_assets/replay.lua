-- Replays pre-built requests (one per line: signature header, a tab, the JSON body), each once
-- and in order, so every webhook is a new event; wrk -t1 keeps one Lua state, one sequence.
local requests = {}
local next_index = 0

init = function(args)
  for line in io.lines(args[1]) do
    local signature, body = line:match("^([^\t]*)\t(.*)$")
    local headers = { ["Content-Type"] = "application/json" }
    if signature ~= "" then headers["Stripe-Signature"] = signature end
    requests[#requests + 1] = wrk.format("POST", nil, headers, body)
  end
end

request = function()
  next_index = next_index + 1
  if next_index > #requests then next_index = 1 end
  return requests[next_index]
end
