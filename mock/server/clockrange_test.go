package server_test

import (
	"strings"
	"testing"
)

// TestClockRefusesUnrepresentable: PUT /__mock/clock answers 400 naming
// the range for what the clock cannot hold (it used to wrap or clamp
// silently), and the clock stays where it was.
func TestClockRefusesUnrepresentable(t *testing.T) {
	srv := start(t)
	call(t, srv, "PUT", "/__mock/clock", map[string]any{"freeze": true})
	tests := []struct {
		name   string
		change any
		field  string
	}{
		{"advance 2562047h", map[string]any{"advance": "2562047h"}, "advance"},
		{"advance 1500000h twice", map[string]any{"advance": "1500000h"}, "advance"},
		{"advance far back", map[string]any{"advance": "-2562047h"}, "advance"},
		{"set year 1000", map[string]any{"set": "1000-01-01T00:00:00Z"}, "set"},
		{"set year 2300", map[string]any{"set": "2300-01-01T00:00:00Z"}, "set"},
		{"set year 9999 and unfreeze", map[string]any{"set": "9999-12-31T23:59:59Z", "freeze": false}, "set"},
	}
	for _, tt := range tests {
		call(t, srv, "PUT", "/__mock/clock", map[string]any{"reset": true, "freeze": true})
		before := srv.Clock().State()
		r := call(t, srv, "PUT", "/__mock/clock", tt.change)
		if strings.HasSuffix(tt.name, "twice") {
			if r.status != 200 {
				t.Fatalf("first advance: %d %s", r.status, r.body)
			}
			before = srv.Clock().State()
			r = call(t, srv, "PUT", "/__mock/clock", tt.change)
		}
		if r.status != 400 || !strings.Contains(string(r.body), "outside the range") || !strings.Contains(string(r.body), tt.field) {
			t.Errorf("%s: %d %s, want 400 naming %s and the range", tt.name, r.status, r.body, tt.field)
		}
		if after := srv.Clock().State(); after != before {
			t.Errorf("%s: refused change moved the clock %v -> %v", tt.name, before.Now, after.Now)
		}
	}
	// A state document is held to the same range, all or nothing.
	r := call(t, srv, "PUT", "/__mock/state", map[string]any{"vendors": map[string]any{}, "clock": map[string]any{"now": "1000-01-01T00:00:00Z", "frozen": true, "offset": "0s"}})
	if r.status != 400 {
		t.Errorf("state with clock in year 1000: %d %s", r.status, r.body)
	}
}
