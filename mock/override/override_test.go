package override

import (
	"net/http"
	"testing"
	"time"
)

func TestSetTakesNewestLiveRule(t *testing.T) {
	s := NewSet()
	now := time.Now()
	s.Add(Spec{Operation: "op", Status: 500}, SourceFile, now)
	twice := s.Add(Spec{Operation: "op", Status: 429, Times: 2}, SourceAPI, now)
	s.Add(Spec{Operation: "op", Status: 404, Match: Match{Body: map[string]any{"/user/id": "u1"}}}, SourceAPI, now)
	body := func(v any) func() any { return func() any { return v } }
	tests := []struct {
		name string
		req  Request
		want int
	}{
		{"body match wins (newest)", Request{Operation: "op", Header: http.Header{}, Body: body(map[string]any{"user": map[string]any{"id": "u1"}})}, 404},
		{"then the counted rule", Request{Operation: "op", Header: http.Header{}}, 429},
		{"counted rule again", Request{Operation: "op", Header: http.Header{}}, 429},
		{"used up: the file rule", Request{Operation: "op", Header: http.Header{}}, 500},
		{"other operation: nothing", Request{Operation: "other", Header: http.Header{}}, 0},
	}
	for _, tt := range tests {
		r, ok := s.Take(tt.req)
		if ok != (tt.want != 0) || r.Status != tt.want {
			t.Errorf("%s: got %d %v, want %d", tt.name, r.Status, ok, tt.want)
		}
	}
	if r, _ := s.Get(twice.ID); r.Hits != 2 || r.Remaining != 0 {
		t.Errorf("counters: %+v", r)
	}
	s.ReplaceSource(SourceFile, nil, now)
	if len(s.List()) != 2 {
		t.Errorf("ReplaceSource left %d rules", len(s.List()))
	}
}
