package redisstore

import (
	"sync"

	"github.com/redis/rueidis"
)

// script is a Lua script sent by SHA (EVALSHA, EVAL once when Redis lacks
// it). Every script returns an array of strings, so that any client library
// reads it the same way.
type script struct {
	src  string
	once sync.Once
	ru   *rueidis.Lua

	shaOnce sync.Once
	sha1    string
}

var allScripts []*script

func newScript(src string) *script {
	s := &script{src: prelude + src}
	allScripts = append(allScripts, s)
	return s
}

// prelude: now is Redis's own clock in milliseconds, so every replica agrees
// on which index entries have outlived their safety TTL; add puts a member in
// a sorted set whose score is its deadline and keeps the set's own TTL at
// least that far (a set holding a member without deadline never expires).
const prelude = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function add(key, member, ttl)
  if ttl > 0 then
    redis.call('ZADD', key, now + ttl, member)
    local pt = redis.call('PTTL', key)
    if pt >= 0 and pt < ttl then
      redis.call('PEXPIRE', key, ttl)
    elseif pt == -1 and redis.call('ZCARD', key) == 1 then
      redis.call('PEXPIRE', key, ttl)
    end
  else
    redis.call('ZADD', key, '+inf', member)
    redis.call('PERSIST', key)
  end
end
local function setrec(key, value, ttl)
  if ttl > 0 then
    redis.call('SET', key, value, 'PX', ttl)
  else
    redis.call('SET', key, value)
  end
end
local function mget(prefix, members)
  local out = {}
  for i = 1, #members, 500 do
    local ks = {}
    for j = i, math.min(i + 499, #members) do ks[#ks + 1] = prefix .. members[j] end
    local vs = redis.call('MGET', unpack(ks))
    for _, v in ipairs(vs) do
      if v then out[#out + 1] = v end
    end
  end
  return out
end
local function wipe(pattern)
  local cursor = '0'
  repeat
    local r = redis.call('SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = r[1]
    for i = 1, #r[2], 500 do
      redis.call('DEL', unpack(r[2], i, math.min(i + 499, #r[2])))
    end
  until cursor == '0'
end
`

var pingScript = newScript(`return {'ok'}`)

// createScript: KEYS = record, all, index keys..., then the all sets of the
// stores sharing a budget; ARGV = value, record key, store cap, ttl ms,
// number of budget sets, budget (0 for none), then one cap per index key
// (0 for none). A budget refusal answers the records counted.
var createScript = newScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return {'exists'} end
local lim = tonumber(ARGV[3])
if lim > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZCARD', KEYS[2]) >= lim then return {'full'} end
end
local nb = tonumber(ARGV[5])
local last = #KEYS - nb
for i = 3, last do
  local l = tonumber(ARGV[i + 4])
  if l > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
    if redis.call('ZCARD', KEYS[i]) >= l then return {'full'} end
  end
end
local budget = tonumber(ARGV[6])
if budget > 0 then
  local used = 0
  for i = last + 1, #KEYS do used = used + redis.call('ZCOUNT', KEYS[i], '(' .. now, '+inf') end
  if used >= budget then return {'budget', tostring(used)} end
end
local ttl = tonumber(ARGV[4])
setrec(KEYS[1], ARGV[1], ttl)
for i = 2, last do add(KEYS[i], ARGV[2], ttl) end
return {'ok'}
`)

// updateScript is compare-and-set: KEYS = record, all, old index keys...,
// new index keys...; ARGV = value read, new value, record key, ttl ms,
// number of old index keys. On a conflict it returns the current value, so a
// retry needs no second read.
var updateScript = newScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then return {'notfound'} end
if cur ~= ARGV[1] then return {'conflict', cur} end
local nold = tonumber(ARGV[5])
for i = 3, 2 + nold do redis.call('ZREM', KEYS[i], ARGV[3]) end
local ttl = tonumber(ARGV[4])
setrec(KEYS[1], ARGV[2], ttl)
add(KEYS[2], ARGV[3], ttl)
for i = 3 + nold, #KEYS do add(KEYS[i], ARGV[3], ttl) end
return {'ok'}
`)

// deleteScript: KEYS = record, all, index keys...; ARGV = value read, record key.
var deleteScript = newScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then return {'notfound'} end
if cur ~= ARGV[1] then return {'conflict', cur} end
redis.call('DEL', KEYS[1])
for i = 2, #KEYS do redis.call('ZREM', KEYS[i], ARGV[2]) end
return {'ok'}
`)

// rangeScript returns the live records of one sorted set (an index key or
// all): KEYS = set; ARGV = record key prefix. Read-only.
var rangeScript = newScript(`
local ms = redis.call('ZRANGE', KEYS[1], '(' .. now, '+inf', 'BYSCORE')
return mget(ARGV[1], ms)
`)

// countScript: KEYS = set. Read-only.
var countScript = newScript(`
return {tostring(redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf'))}
`)

// resetScript deletes every key matching ARGV[1], atomically.
var resetScript = newScript(`
wipe(ARGV[1])
return {'ok'}
`)

// loadScript replaces a store's content: ARGV = pattern of its keys, record
// prefix, all, then per record: key, value, ttl ms, number of index keys,
// index keys...
var loadScript = newScript(`
wipe(ARGV[1])
local prefix, all = ARGV[2], ARGV[3]
local i = 4
while i <= #ARGV do
  local k, v, ttl, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  setrec(prefix .. k, v, ttl)
  add(all, k, ttl)
  for j = i + 4, i + 3 + n do add(ARGV[j], k, ttl) end
  i = i + 4 + n
end
return {'ok'}
`)

// setScript: KEYS = key; ARGV = value.
var setScript = newScript(`
redis.call('SET', KEYS[1], ARGV[1])
return {'ok'}
`)

// delScript: KEYS = key.
var delScript = newScript(`
redis.call('DEL', KEYS[1])
return {'ok'}
`)

// takeScript decrements a positive counter: KEYS = counter.
var takeScript = newScript(`
local v = tonumber(redis.call('GET', KEYS[1]) or '0')
if v > 0 then
  redis.call('DECR', KEYS[1])
  return {'1'}
end
return {'0'}
`)

// incrScript: KEYS = counter.
var incrScript = newScript(`
return {tostring(redis.call('INCR', KEYS[1]))}
`)

// appendScript: KEYS = list; ARGV = entry, cap.
var appendScript = newScript(`
redis.call('LPUSH', KEYS[1], ARGV[1])
local cap = tonumber(ARGV[2])
if cap > 0 then redis.call('LTRIM', KEYS[1], 0, cap - 1) end
return {'ok'}
`)

// recentScript: KEYS = list; ARGV = how many (0 for all). Read-only.
var recentScript = newScript(`
return redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
`)

// llenScript: KEYS = list. Read-only.
var llenScript = newScript(`
return {tostring(redis.call('LLEN', KEYS[1]))}
`)
