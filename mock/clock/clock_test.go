package clock

import (
	"testing"
	"time"
)

func TestControlled(t *testing.T) {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	wall := base
	newClock := func() *Controlled { return &Controlled{wall: func() time.Time { return wall }} }
	tests := []struct {
		name string
		run  func(c *Controlled)
		tick time.Duration // wall time passing after run
		want time.Time
	}{
		{"follows wall", func(*Controlled) {}, time.Second, base.Add(time.Second)},
		{"advance", func(c *Controlled) { c.Advance(72 * time.Hour) }, time.Second, base.Add(72*time.Hour + time.Second)},
		{"set", func(c *Controlled) { c.Set(base.Add(-time.Hour)) }, time.Second, base.Add(-time.Hour + time.Second)},
		{"freeze stands still", func(c *Controlled) { c.Freeze() }, time.Hour, base},
		{"frozen advance", func(c *Controlled) { c.Freeze(); c.Advance(time.Minute) }, time.Hour, base.Add(time.Minute)},
		{"frozen set", func(c *Controlled) { c.Freeze(); c.Set(base.Add(5 * time.Hour)) }, time.Hour, base.Add(5 * time.Hour)},
		{"unfreeze runs from frozen instant", func(c *Controlled) { c.Freeze(); wall = wall.Add(time.Hour); c.Unfreeze() }, time.Second, base.Add(time.Second)},
		{"reset", func(c *Controlled) { c.Advance(time.Hour); c.Freeze(); c.Reset() }, time.Second, base.Add(time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wall = base
			c := newClock()
			tt.run(c)
			start := wall
			wall = wall.Add(tt.tick)
			got := c.Now()
			// "unfreeze" moved the wall inside run; measure against its start.
			want := tt.want.Add(start.Sub(base))
			if tt.name == "unfreeze runs from frozen instant" {
				want = tt.want
			}
			if !got.Equal(want) {
				t.Fatalf("Now() = %v, want %v", got, want)
			}
		})
	}
}
