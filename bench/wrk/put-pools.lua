-- put-pools.lua - wrk script for bench/server.sh: every request PUTs a new agent pool (names are
-- distinct per thread and request), so each one is a durable create plus an operation.
-- Usage: wrk ... URL -- /subscriptions/.../managedClusters/NAME/agentPools api-version [prefix]
-- (prefix, default "t", a lowercase letter: several wrk processes on one cluster name distinct pools)
local threads = {}
local counter = 0
local body = '{"properties":{"vmSize":"Standard_NC4as_T4_v3","count":3,"nodeTaints":["sku=gpu:NoSchedule"]}}'
local headers = {["Content-Type"] = "application/json"}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  prefix = args[1]
  api = args[2]
  tag = args[3] or "t"
end

function request()
  counter = counter + 1
  local path = string.format("%s/%s%dn%d?api-version=%s", prefix, tag, tid, counter, api)
  return wrk.format("PUT", path, headers, body)
end
