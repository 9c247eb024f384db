package clock

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestRange: a set or advance whose result the clock cannot represent is
// refused with a *RangeError and changes nothing; everything in range lands
// exactly where asked and reads back (property over random instants).
func TestRange(t *testing.T) {
	wall := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	lo, hi := Bounds(wall)
	max := time.Duration(math.MaxInt64)
	tests := []struct {
		name string
		ch   []Change
		ok   bool
	}{
		{"advance max twice (wrapped to the past)", []Change{{Advance: &max}, {Advance: &max}}, false},
		{"set year 1000 (landed in 1734)", []Change{{Set: ptr(time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC))}}, false},
		{"set year 2300 (landed in 2319)", []Change{{Set: ptr(time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC))}}, false},
		{"frozen set year 9999", []Change{{Freeze: ptr(true), Set: ptr(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))}}, false},
		{"advance to min duration", []Change{{Advance: ptr(time.Duration(math.MinInt64))}}, false},
		{"set upper bound", []Change{{Set: &hi}}, true},
		{"set lower bound", []Change{{Set: &lo}}, true},
		{"set just past upper bound", []Change{{Set: ptr(hi.Add(time.Nanosecond))}}, false},
		{"set 2262 then advance a year", []Change{{Set: ptr(time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC))}, {Advance: ptr(365 * 24 * time.Hour)}}, false},
		{"set 2200", []Change{{Set: ptr(time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC))}}, true},
	}
	for _, tt := range tests {
		for _, frozen := range []bool{false, true} {
			c := &Controlled{wall: func() time.Time { return wall }}
			if frozen {
				c.Freeze()
			}
			var err error
			for _, ch := range tt.ch {
				before := c.State()
				if err = c.Change(ch); err != nil {
					var re *RangeError
					if !errors.As(err, &re) {
						t.Errorf("%s: error %T %v, want *RangeError", tt.name, err, err)
					}
					if after := c.State(); after != before {
						t.Errorf("%s: refused change moved the clock %+v -> %+v", tt.name, before, after)
					}
					break
				}
			}
			if (err == nil) != tt.ok {
				t.Errorf("%s (frozen %v): err %v, want ok=%v; now %s", tt.name, frozen, err, tt.ok, c.Now())
			}
			if now := c.Now(); now.Before(lo) || now.After(hi) {
				t.Errorf("%s: clock at %s, outside %s..%s", tt.name, now, lo, hi)
			}
		}
	}

	rng := rand.New(rand.NewPCG(4, 14))
	for range 2000 {
		c := &Controlled{wall: func() time.Time { return wall }}
		if rng.IntN(2) == 0 {
			c.Freeze()
		}
		at := time.Unix(0, rng.Int64()-rng.Int64()/2).UTC()
		if err := c.Set(at); err != nil {
			if !at.Before(lo) && !at.After(hi) {
				t.Fatalf("set %s in range refused: %v", at, err)
			}
			continue
		}
		if !c.Now().Equal(at) {
			t.Fatalf("set %s reads back %s", at, c.Now())
		}
		d := time.Duration(rng.Int64() - rng.Int64()/2)
		want := at.Add(d)
		err := c.Advance(d)
		switch {
		case want.Before(lo) || want.After(hi):
			if err == nil {
				t.Fatalf("advance %s from %s to %s out of range accepted: now %s", d, at, want, c.Now())
			}
		case err != nil:
			t.Fatalf("advance %s from %s refused: %v", d, at, err)
		case !c.Now().Equal(want):
			t.Fatalf("advance %s from %s reads back %s, want %s", d, at, c.Now(), want)
		}
	}
}

func ptr[T any](v T) *T { return &v }
