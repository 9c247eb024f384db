// Package clock is the server's own notion of time. Vendor logic reads time
// only through a Clock, so tests and users can move it to watch sessions
// expire without waiting.
package clock

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// Controlled is a Clock that follows the wall clock plus an offset, or stands
// still when frozen. The zero value is not usable; call New.
type Controlled struct {
	mu     sync.RWMutex
	offset time.Duration
	frozen bool
	at     time.Time // the frozen instant
	wall   func() time.Time
}

// New returns a clock that starts at the wall-clock time.
func New() *Controlled { return &Controlled{wall: time.Now} }

// State is a snapshot of the clock's settings, for the admin API.
type State struct {
	Now    time.Time     `json:"now"`
	Offset time.Duration `json:"offset"`
	Frozen bool          `json:"frozen"`
}

// Now returns the clock's current time in UTC.
func (c *Controlled) Now() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.nowLocked()
}

func (c *Controlled) nowLocked() time.Time {
	if c.frozen {
		return c.at
	}
	return c.wall().Add(c.offset).UTC()
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

// Change applies ch atomically: when one step would leave the range the
// clock can represent, it returns a *RangeError and nothing changes.
func (c *Controlled) Change(ch Change) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	wall := c.wall()
	next := settings{offset: c.offset, frozen: c.frozen, at: c.at}
	if ch.Reset {
		next.offset, next.frozen, next.at = 0, false, time.Time{}
	}
	if ch.Freeze != nil && *ch.Freeze && !next.frozen {
		next.at, next.frozen = next.nowAt(wall), true
	}
	if ch.Set != nil {
		if err := next.moveTo(*ch.Set, wall, "set"); err != nil {
			return err
		}
	}
	if ch.Advance != nil {
		// time.Time.Add cannot overflow for any Duration from an instant in
		// range; the result is checked instead of the offset sum, which can.
		if err := next.moveTo(next.nowAt(wall).Add(*ch.Advance), wall, "advance"); err != nil {
			return err
		}
	}
	if ch.Freeze != nil && !*ch.Freeze && next.frozen {
		next.offset, next.frozen = next.at.Sub(wall), false
	}
	c.offset, c.frozen, c.at = next.offset, next.frozen, next.at
	return nil
}

// settings are a clock's fields, changed on a copy until a whole Change is
// known to fit.
type settings struct {
	offset time.Duration
	frozen bool
	at     time.Time
}

func (c *settings) nowAt(wall time.Time) time.Time {
	if c.frozen {
		return c.at
	}
	return wall.Add(c.offset).UTC()
}

func (c *settings) moveTo(t, wall time.Time, op string) error {
	lo, hi := Bounds(wall)
	if t.Before(lo) || t.After(hi) {
		return &RangeError{Op: op, At: t, Min: lo, Max: hi}
	}
	if c.frozen {
		c.at = t.UTC()
	} else {
		c.offset = t.Sub(wall)
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
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.frozen {
		c.at = c.nowLocked()
		c.frozen = true
	}
}

// Unfreeze lets the clock run again from where it stood.
func (c *Controlled) Unfreeze() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		c.offset = c.at.Sub(c.wall())
		c.frozen = false
	}
}

// Reset returns the clock to the wall-clock time, running.
func (c *Controlled) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset, c.frozen, c.at = 0, false, time.Time{}
}

// State reports the clock's settings.
func (c *Controlled) State() State {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return State{Now: c.nowLocked(), Offset: c.offset, Frozen: c.frozen}
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
