package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/idpmock/idpmock/mock/state"
)

// Cell is a state.Cell in one Redis key. A read is one GET: rueidis's
// client-side cache would save it, but Redis delivers the invalidation after
// the writer's reply, so a replica read right after another replica's write
// was stale about half the time (TestCellCacheIsStale); the mock clock must
// not be.
type Cell[T any] struct {
	c   *Client
	key string
}

// NewCell returns the cell called name.
func NewCell[T any](c *Client, name string) *Cell[T] {
	return &Cell[T]{c: c, key: c.space(name) + "cell"}
}

// Load returns the value (the zero value if never stored).
func (x *Cell[T]) Load(ctx context.Context) (T, error) {
	var v T
	raw, ok, err := x.c.get(ctx, x.key)
	if err != nil || !ok {
		return v, err
	}
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return v, fmt.Errorf("redisstore: cell: %w", err)
	}
	return v, nil
}

// Store replaces the value for every replica.
func (x *Cell[T]) Store(ctx context.Context, v T) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("redisstore: cell: %w", err)
	}
	_, err = x.c.run(ctx, setScript, []string{x.key}, []string{string(raw)})
	return err
}

// Counters are state.Counters, one Redis key per name.
type Counters struct {
	c     *Client
	space string
}

// NewCounters returns the counter family called name.
func NewCounters(c *Client, name string) *Counters {
	return &Counters{c: c, space: c.space(name)}
}

func (x *Counters) key(name string) string { return x.space + "n:" + name }

// Arm sets name's budget to n.
func (x *Counters) Arm(ctx context.Context, name string, n int64) error {
	_, err := x.c.run(ctx, setScript, []string{x.key(name)}, []string{strconv.FormatInt(n, 10)})
	return err
}

// Take consumes one unit; exactly n Takes succeed across all replicas.
func (x *Counters) Take(ctx context.Context, name string) (bool, error) {
	r, err := x.c.run(ctx, takeScript, []string{x.key(name)}, nil)
	return status(r) == "1", err
}

// Left is name's remaining budget.
func (x *Counters) Left(ctx context.Context, name string) (int64, error) {
	raw, ok, err := x.c.get(ctx, x.key(name))
	if err != nil || !ok {
		return 0, err
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	return max(n, 0), err
}

// Next adds one to name (INCR) and returns the sum.
func (x *Counters) Next(ctx context.Context, name string) (int64, error) {
	r, err := x.c.run(ctx, incrScript, []string{x.key(name)}, nil)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(status(r), 10, 64)
}

// Disarm forgets name.
func (x *Counters) Disarm(ctx context.Context, name string) error {
	_, err := x.c.run(ctx, delScript, []string{x.key(name)}, nil)
	return err
}

// Reset forgets every counter of the family.
func (x *Counters) Reset(ctx context.Context) error {
	_, err := x.c.run(ctx, resetScript, nil, []string{glob(x.space)})
	return err
}

// Log is a state.Log in one Redis list, newest first, trimmed to its cap on
// every append.
type Log struct {
	c   *Client
	key string
	max string
}

// NewLog returns the log called name that keeps the newest max entries.
func NewLog(c *Client, name string, max int) *Log {
	return &Log{c: c, key: c.space(name) + "log", max: strconv.Itoa(max)}
}

// Append adds entry (LPUSH and LTRIM in one script: one round trip).
func (l *Log) Append(ctx context.Context, entry []byte) error {
	_, err := l.c.run(ctx, appendScript, []string{l.key}, []string{string(entry), l.max})
	return err
}

// Recent returns up to n entries, newest first (all when n <= 0).
func (l *Log) Recent(ctx context.Context, n int) ([][]byte, error) {
	r, err := l.c.run(ctx, recentScript, []string{l.key}, []string{strconv.Itoa(max(n, 0))})
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(r))
	for i, e := range r {
		out[i] = []byte(e)
	}
	return out, nil
}

// Len is how many entries are kept.
func (l *Log) Len(ctx context.Context) (int, error) {
	r, err := l.c.run(ctx, llenScript, []string{l.key}, nil)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(status(r))
}

// Clear drops every entry.
func (l *Log) Clear(ctx context.Context) error {
	_, err := l.c.run(ctx, delScript, []string{l.key}, nil)
	return err
}

var (
	_ state.Cell[int] = (*Cell[int])(nil)
	_ state.Counters  = (*Counters)(nil)
	_ state.Log       = (*Log)(nil)
)

func (l *Log) seqKey() string { return strings.TrimSuffix(l.key, "log") + "seq" }

// Push appends entry numbered by an INCR in the same script (one round
// trip); the list keeps "<number> <entry>".
func (l *Log) Push(ctx context.Context, entry []byte) (int64, error) {
	r, err := l.c.run(ctx, pushScript, []string{l.key, l.seqKey()}, []string{string(entry), l.max})
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(status(r), 10, 64)
}

// Since returns the numbered entries above since, oldest first, and the
// newest number given (one round trip).
func (l *Log) Since(ctx context.Context, since int64) ([]state.Numbered, int64, error) {
	r, err := l.c.run(ctx, sinceScript, []string{l.key, l.seqKey()}, []string{strconv.FormatInt(since, 10)})
	if err != nil {
		return nil, 0, err
	}
	if len(r) == 0 {
		return nil, 0, errors.New("redisstore: log: empty answer")
	}
	newest, err := strconv.ParseInt(r[0], 10, 64)
	if err != nil {
		return nil, 0, fmt.Errorf("redisstore: log: %w", err)
	}
	out := make([]state.Numbered, 0, len(r)-1)
	for i := len(r) - 1; i >= 1; i-- {
		n, e, _ := strings.Cut(r[i], " ")
		seq, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			return nil, 0, fmt.Errorf("redisstore: log: %w", err)
		}
		out = append(out, state.Numbered{Seq: seq, Entry: []byte(e)})
	}
	return out, newest, nil
}

// Newest is the newest number given (one GET).
func (l *Log) Newest(ctx context.Context) (int64, error) {
	raw, ok, err := l.c.get(ctx, l.seqKey())
	if err != nil || !ok {
		return 0, err
	}
	return strconv.ParseInt(raw, 10, 64)
}

// pushScript: KEYS = list, sequence; ARGV = entry, cap.
var pushScript = newScript(`
local n = redis.call('INCR', KEYS[2])
redis.call('LPUSH', KEYS[1], n .. ' ' .. ARGV[1])
local cap = tonumber(ARGV[2])
if cap > 0 then redis.call('LTRIM', KEYS[1], 0, cap - 1) end
return {tostring(n)}
`)

// sinceScript: KEYS = list, sequence; ARGV = since. Answers the newest
// number, then the entries above since, newest first. Read-only.
var sinceScript = newScript(`
local out = {redis.call('GET', KEYS[2]) or '0'}
local since = tonumber(ARGV[1])
for _, e in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local sp = string.find(e, ' ', 1, true)
  if not sp or tonumber(string.sub(e, 1, sp - 1)) <= since then break end
  out[#out + 1] = e
end
return out
`)

var _ state.SeqLog = (*Log)(nil)
