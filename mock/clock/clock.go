// Package clock is the server's own notion of time. Vendor logic reads time
// only through a Clock, so tests and users can move it to watch sessions
// expire without waiting.
package clock

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/idpmock/idpmock/mock/state"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// Controlled is a Clock that follows the wall clock plus an offset, or stands
// still when frozen. The zero value is not usable; call New. By default its
// settings live in this process; Share moves them to a cell every replica
// reads (--store redis://).
type Controlled struct {
	mu     sync.RWMutex
	s      Settings // the settings (local), or the last ones read (shared)
	wall   func() time.Time
	shared state.UpdateCell[Settings] // nil: local
	bus    state.Bus                  // nil: read the shared settings per request
}

// New returns a clock that starts at the wall-clock time.
func New() *Controlled { return &Controlled{wall: time.Now} }

// Share keeps the clock's settings in cell from now on, so that every
// replica sharing the cell shows the same time and a change made on one is
// seen at once by all. Call it before the clock is used.
func (c *Controlled) Share(cell state.UpdateCell[Settings]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.shared = cell
}

// Shared reports whether the settings live in a shared cell.
func (c *Controlled) Shared() bool { return c != nil && c.shared != nil }

// State is a snapshot of the clock's settings, for the admin API.
type State struct {
	Now    time.Time     `json:"now"`
	Offset time.Duration `json:"offset"`
	Frozen bool          `json:"frozen"`
}

// Settings are what a clock stores: its offset from the wall clock, or the
// instant it is frozen at. Version counts the clock's changes; Overrides is
// a version the server bumps when the shared overrides change, kept here so
// that one read per request brings all the control data.
type Settings struct {
	Offset    time.Duration `json:"offset,omitempty"`
	Frozen    bool          `json:"frozen,omitempty"`
	At        time.Time     `json:"at,omitzero"`
	Version   int64         `json:"version,omitempty"`
	Overrides int64         `json:"overrides,omitempty"`
	// Fixtures is bumped by a replica that reloaded its fixtures, so the
	// others reload theirs at their next request.
	Fixtures int64 `json:"fixtures,omitempty"`
	// Rev counts every write of the shared settings and Epoch names the
	// cell they live in (a new one if Redis lost it), so a replica told of
	// two changes out of order keeps the later one.
	Rev   int64  `json:"rev,omitempty"`
	Epoch string `json:"epoch,omitempty"`
}

// Now returns the clock's current time in UTC. A shared clock reads its
// settings (on a failed read it goes on from the last ones read): in a
// request, call NowContext (or Now(ctx, c)) instead, which reads them once.
func (c *Controlled) Now() time.Time {
	if c.shared != nil && !c.coherent() {
		st, _ := c.load(context.Background())
		return st.nowAt(c.wall())
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.s.nowAt(c.wall())
}

// NowContext is Now for the request ctx belongs to: a shared clock's
// settings are read once per request carrying a memo (WithMemo), the first
// time anything needs them, in the same round trip as the request's first
// store command when that comes first.
func (c *Controlled) NowContext(ctx context.Context) time.Time {
	if c.shared == nil {
		return c.Now()
	}
	st, err := c.SettingsContext(ctx)
	if err != nil {
		st = c.last()
	}
	return st.nowAt(c.wall())
}

// WithMemo returns ctx carrying the memo of a shared clock's settings for
// one request (ctx itself for a local clock: nothing to remember).
func (c *Controlled) WithMemo(ctx context.Context) context.Context {
	if c.shared == nil || c.coherent() {
		return ctx
	}
	return state.WithPrefetch(ctx, state.NewPrefetch(c.shared))
}

// SettingsContext returns the settings, through ctx's memo if it has one.
// Only a shared clock can fail (a state.UnavailableError).
func (c *Controlled) SettingsContext(ctx context.Context) (Settings, error) {
	if c.shared == nil || c.coherent() {
		return c.last(), nil
	}
	p := state.PrefetchFrom(ctx)
	if p == nil || p.Source() != any(c.shared) {
		return c.load(ctx)
	}
	v, err := p.Value(ctx, func(raw []byte, found bool) (any, error) {
		var st Settings
		if found {
			if err := json.Unmarshal(raw, &st); err != nil {
				return nil, fmt.Errorf("clock: shared settings: %w", err)
			}
		}
		c.remember(st)
		return st, nil
	}, func(ctx context.Context) (any, error) {
		return c.load(ctx)
	})
	if err != nil {
		return Settings{}, err
	}
	return v.(Settings), nil
}

// load reads the shared settings, remembering them.
func (c *Controlled) load(ctx context.Context) (Settings, error) {
	st, err := c.shared.Load(ctx)
	if err != nil {
		return c.last(), err
	}
	c.remember(st)
	return st, nil
}

func (c *Controlled) remember(st Settings) {
	c.mu.Lock()
	c.s = st
	c.mu.Unlock()
}

func (c *Controlled) last() Settings {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.s
}

// Set moves the clock to t; a frozen clock stays frozen at t. It refuses
// (a *RangeError, nothing changed) an instant the clock cannot represent.
func (c *Controlled) Set(t time.Time) error {
	return c.Change(Change{Set: &t})
}

// Advance moves the clock by d (negative moves it back). It refuses (a
// *RangeError, nothing changed) to move past what the clock can represent.
func (c *Controlled) Advance(d time.Duration) error {
	return c.Change(Change{Advance: &d})
}

// Change is several clock changes applied together, in this order:
// reset, freeze, set, advance, unfreeze (Freeze false).
type Change struct {
	Reset   bool
	Freeze  *bool
	Set     *time.Time
	Advance *time.Duration
}

// Change is ChangeContext without a request.
func (c *Controlled) Change(ch Change) error { return c.ChangeContext(context.Background(), ch) }

// ChangeContext applies ch atomically: when one step would leave the range
// the clock can represent, it returns a *RangeError and nothing changes. A
// shared clock applies it atomically across replicas (two replicas
// advancing by an hour at once leave it two hours ahead), or fails with a
// state.UnavailableError.
func (c *Controlled) ChangeContext(ctx context.Context, ch Change) error {
	if c.shared != nil {
		_, err := c.write(ctx, func(cur Settings) (Settings, error) {
			return cur.apply(ch, c.wall())
		})
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	next, err := c.s.apply(ch, c.wall())
	if err == nil {
		c.s = next
	}
	return err
}

// apply returns s changed by ch, or a *RangeError.
func (s Settings) apply(ch Change, wall time.Time) (Settings, error) {
	next := s
	if ch.Reset {
		next.Offset, next.Frozen, next.At = 0, false, time.Time{}
	}
	if ch.Freeze != nil && *ch.Freeze && !next.Frozen {
		next.At, next.Frozen = next.nowAt(wall), true
	}
	if ch.Set != nil {
		if err := next.moveTo(*ch.Set, wall, "set"); err != nil {
			return s, err
		}
	}
	if ch.Advance != nil {
		// time.Time.Add cannot overflow for any Duration from an instant in
		// range; the result is checked instead of the offset sum, which can.
		if err := next.moveTo(next.nowAt(wall).Add(*ch.Advance), wall, "advance"); err != nil {
			return s, err
		}
	}
	if ch.Freeze != nil && !*ch.Freeze && next.Frozen {
		next.Offset, next.Frozen = next.At.Sub(wall), false
	}
	next.Version++
	return next, nil
}

// BumpOverrides adds one to the overrides version and returns it (a shared
// clock only: replicas compare it with the version of the overrides they
// hold).
func (c *Controlled) BumpOverrides(ctx context.Context) (int64, error) {
	st, err := c.bump(ctx, func(st *Settings) { st.Overrides++ })
	return st.Overrides, err
}

// BumpFixtures adds one to the fixtures version and returns it (a shared
// clock only: replicas reload their fixtures when it passes theirs).
func (c *Controlled) BumpFixtures(ctx context.Context) (int64, error) {
	st, err := c.bump(ctx, func(st *Settings) { st.Fixtures++ })
	return st.Fixtures, err
}

func (c *Controlled) bump(ctx context.Context, f func(*Settings)) (Settings, error) {
	if c.shared == nil {
		return Settings{}, nil
	}
	return c.write(ctx, func(cur Settings) (Settings, error) {
		f(&cur)
		return cur, nil
	})
}

func (c *Settings) nowAt(wall time.Time) time.Time {
	if c.Frozen {
		return c.At
	}
	return wall.Add(c.Offset).UTC()
}

func (c *Settings) moveTo(t, wall time.Time, op string) error {
	lo, hi := Bounds(wall)
	if t.Before(lo) || t.After(hi) {
		return &RangeError{Op: op, At: t, Min: lo, Max: hi}
	}
	if c.Frozen {
		c.At = t.UTC()
	} else {
		c.Offset = t.Sub(wall)
	}
	return nil
}

// The instants a Unix time in nanoseconds can hold (1677..2262).
var (
	minTime = time.Unix(0, math.MinInt64).UTC()
	maxTime = time.Unix(0, math.MaxInt64).UTC()
)

// Bounds is the range of instants the clock can stand at, given the wall
// clock: a Unix time in nanoseconds (1677-09-21 to 2262-04-11), and an
// offset from the wall clock that fits a time.Duration (about ±292 years;
// a frozen clock must be able to run again from where it stands). A day is
// kept in hand on the offset so the running clock does not reach the edge.
func Bounds(wall time.Time) (lo, hi time.Time) {
	const margin = 24 * time.Hour
	lo, hi = minTime, maxTime
	if l := wall.Add(math.MinInt64 + margin).UTC(); l.After(lo) {
		lo = l
	}
	if h := wall.Add(math.MaxInt64 - margin).UTC(); h.Before(hi) {
		hi = h
	}
	return lo, hi
}

// RangeError is a clock change refused because the result cannot be
// represented.
type RangeError struct {
	Op       string // "set" or "advance"
	At       time.Time
	Min, Max time.Time
}

func (e *RangeError) Error() string {
	at := e.At.UTC().Format(time.RFC3339Nano)
	if e.At.Year() < -9999 || e.At.Year() > 99999 {
		at = "an instant out of range"
	}
	return fmt.Sprintf("clock %s: %s is outside the range the clock can represent, %s to %s", e.Op, at,
		e.Min.Format(time.RFC3339), e.Max.Format(time.RFC3339))
}

// Freeze stops the clock at its current time.
func (c *Controlled) Freeze() {
	t := true
	_ = c.Change(Change{Freeze: &t})
}

// Unfreeze lets the clock run again from where it stood.
func (c *Controlled) Unfreeze() {
	f := false
	_ = c.Change(Change{Freeze: &f})
}

// Reset returns the clock to the wall-clock time, running.
func (c *Controlled) Reset() { _ = c.ResetContext(context.Background()) }

// ResetContext is Reset, which a shared clock may fail.
func (c *Controlled) ResetContext(ctx context.Context) error {
	return c.ChangeContext(ctx, Change{Reset: true})
}

// State reports the clock's settings.
func (c *Controlled) State() State {
	st, _ := c.StateContext(context.Background())
	return st
}

// StateContext reports the clock's settings, read afresh for a shared
// clock (the admin API shows what a change just did).
func (c *Controlled) StateContext(ctx context.Context) (State, error) {
	st, err := c.last(), error(nil)
	if c.shared != nil {
		st, err = c.load(ctx)
	}
	return State{Now: st.nowAt(c.wall()), Offset: st.Offset, Frozen: st.Frozen}, err
}

// Contextual is a Clock whose settings may live elsewhere (a shared store):
// it reads them at most once per request context.
type Contextual interface {
	NowContext(ctx context.Context) time.Time
}

// Now is c's time for the request ctx belongs to. Vendors call it, not
// c.Now(), so a clock shared across replicas costs one read per request;
// call it after the request's first store read where the logic allows.
func Now(ctx context.Context, c Clock) time.Time {
	if cc, ok := c.(Contextual); ok {
		return cc.NowContext(ctx)
	}
	return c.Now()
}

// Cohere keeps a shared clock's settings coherent through bus: every write
// is announced to every replica, and the write returns once each has taken
// it, so while the bus is live a replica serves the settings it holds
// without reading them per request. Call it before the bus starts.
func (c *Controlled) Cohere(bus state.Bus) {
	c.mu.Lock()
	c.bus = bus
	c.mu.Unlock()
	bus.Handle(busKind, func(_ context.Context, raw []byte) {
		var st Settings
		if json.Unmarshal(raw, &st) == nil {
			c.adopt(st, false)
		}
	})
	bus.OnLive(func(ctx context.Context) error {
		st, err := c.shared.Load(ctx)
		if err == nil {
			c.adopt(st, true)
		}
		return err
	})
}

const busKind = "clock"

func (c *Controlled) coherent() bool {
	c.mu.RLock()
	b := c.bus
	c.mu.RUnlock()
	return b != nil && b.Live()
}

// adopt keeps st unless the settings held are later ones of the same cell;
// fresh (a read after reconnecting) always wins.
func (c *Controlled) adopt(st Settings, fresh bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if fresh || st.Epoch != c.s.Epoch || st.Rev >= c.s.Rev {
		c.s = st
	}
}

// write changes the shared settings with fn, atomically across replicas,
// and announces the result: it returns once every listening replica holds
// it (or with the bus's error: the change is made, but a replica may not
// have heard of it).
func (c *Controlled) write(ctx context.Context, fn func(Settings) (Settings, error)) (Settings, error) {
	st, err := c.shared.Update(ctx, func(cur Settings) (Settings, error) {
		next, err := fn(cur)
		if err != nil {
			return next, err
		}
		if next.Epoch == "" {
			next.Epoch = newEpoch()
		}
		next.Rev++
		return next, nil
	})
	if err != nil {
		return Settings{}, err
	}
	c.adopt(st, false)
	c.mu.RLock()
	b := c.bus
	c.mu.RUnlock()
	if b != nil {
		raw, _ := json.Marshal(st)
		if err := b.Call(ctx, busKind, raw); err != nil {
			return st, err
		}
	}
	return st, nil
}

func newEpoch() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
