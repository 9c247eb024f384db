// Package clock is the server's own notion of time. Vendor logic reads time
// only through a Clock, so tests and users can move it to watch sessions
// expire without waiting.
package clock

import (
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

// Set moves the clock to t; a frozen clock stays frozen at t.
func (c *Controlled) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		c.at = t.UTC()
		return
	}
	c.offset = t.Sub(c.wall())
}

// Advance moves the clock by d (negative moves it back).
func (c *Controlled) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		c.at = c.at.Add(d)
		return
	}
	c.offset += d
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
