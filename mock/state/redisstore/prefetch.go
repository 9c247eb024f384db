package redisstore

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/idpmock/idpmock/mock/state"
)

// prefetchable is a cell a request may read along with its first round
// trip (state.Prefetch).
type prefetchable interface {
	prefetchKey(c *Client) (string, bool)
}

func (x *Cell[T]) prefetchKey(c *Client) (string, bool) { return x.key, x.c == c }

// claim returns the read ctx asks this client to piggyback, if any: the
// caller then owes it a Fill.
func (c *Client) claim(ctx context.Context) (*state.Prefetch, string) {
	p := state.PrefetchFrom(ctx)
	if p == nil {
		return nil, ""
	}
	src, ok := p.Source().(prefetchable)
	if !ok {
		return nil, ""
	}
	key, ok := src.prefetchKey(c)
	if !ok || !p.Claim() {
		return nil, ""
	}
	return p, key
}

// multiBackend sends a GET of another key in the same round trip as a
// script or a GET (rueidis DoMulti). A backend without it pays a second
// round trip for the prefetch.
type multiBackend interface {
	runWithGet(ctx context.Context, pre string, s *script, keys, args []string) (preResult, []string, error)
	getWithGet(ctx context.Context, pre, key string) (preResult, string, bool, error)
}

// preResult is the piggybacked GET's answer.
type preResult struct {
	v   string
	ok  bool
	err error
}

func (p preResult) fill(ctx context.Context, f *state.Prefetch) {
	f.Fill([]byte(p.v), p.ok, classify(ctx, p.err))
}

// runPrefetch is run carrying f's read (key pre).
func (c *Client) runPrefetch(ctx, octx context.Context, f *state.Prefetch, pre string, s *script, keys, args []string) ([]string, error) {
	mb, ok := c.b.(multiBackend)
	if !ok {
		v, found, err := c.b.get(octx, pre)
		c.trips.Add(1)
		preResult{v, found, err}.fill(ctx, f)
		r, err := c.b.run(octx, s, keys, args)
		c.trips.Add(1)
		return r, classify(ctx, err)
	}
	c.trips.Add(1)
	p, r, err := mb.runWithGet(octx, pre, s, keys, args)
	p.fill(ctx, f)
	return r, classify(ctx, err)
}

// getPrefetch is get carrying f's read (key pre).
func (c *Client) getPrefetch(ctx, octx context.Context, f *state.Prefetch, pre, key string) (string, bool, error) {
	mb, ok := c.b.(multiBackend)
	if !ok {
		pv, pok, perr := c.b.get(octx, pre)
		c.trips.Add(1)
		preResult{pv, pok, perr}.fill(ctx, f)
		v, found, err := c.b.get(octx, key)
		c.trips.Add(1)
		return v, found, classify(ctx, err)
	}
	c.trips.Add(1)
	p, v, found, err := mb.getWithGet(octx, pre, key)
	p.fill(ctx, f)
	return v, found, classify(ctx, err)
}

// sha is the script's SHA-1, for EVALSHA in a pipeline.
func (s *script) sha() string {
	s.shaOnce.Do(func() {
		sum := sha1.Sum([]byte(s.src))
		s.sha1 = hex.EncodeToString(sum[:])
	})
	return s.sha1
}

// casScript replaces a value only if it is still the one read: KEYS = key;
// ARGV = value read, new value, "1" when the key existed.
var casScript = newScript(`
local cur = redis.call('GET', KEYS[1])
if ARGV[3] == '1' then
  if cur ~= ARGV[1] then return {'conflict'} end
elseif cur then
  return {'conflict'}
end
redis.call('SET', KEYS[1], ARGV[2])
return {'ok'}
`)

// errBusyCell is an Update that lost the race too many times in a row.
var errBusyCell = errors.New("redisstore: cell: too many concurrent updates")

// Update stores fn(current) for every replica, atomically: a GET, then a
// compare-and-set that fails (and fn runs again) when another replica
// changed the value in between.
func (x *Cell[T]) Update(ctx context.Context, fn func(T) (T, error)) (T, error) {
	var zero T
	for range 1000 {
		raw, found, err := x.c.get(ctx, x.key)
		if err != nil {
			return zero, err
		}
		var v T
		if found {
			if err := json.Unmarshal([]byte(raw), &v); err != nil {
				return zero, fmt.Errorf("redisstore: cell: %w", err)
			}
		}
		next, err := fn(v)
		if err != nil {
			return zero, err
		}
		enc, err := json.Marshal(next)
		if err != nil {
			return zero, fmt.Errorf("redisstore: cell: %w", err)
		}
		was := "0"
		if found {
			was = "1"
		}
		r, err := x.c.run(ctx, casScript, []string{x.key}, []string{raw, string(enc), was})
		if err != nil {
			return zero, err
		}
		if status(r) == "ok" {
			return next, nil
		}
	}
	return zero, &state.UnavailableError{Err: errBusyCell}
}

var _ state.UpdateCell[int] = (*Cell[int])(nil)
