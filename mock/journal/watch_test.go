package journal

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestSinceCursor(t *testing.T) {
	j := New(3)
	for range 5 {
		j.Add(Entry{Operation: "op"})
	}
	tests := []struct {
		since int64
		want  []int64
	}{
		{0, []int64{3, 4, 5}}, // the ring kept the newest three
		{3, []int64{4, 5}},
		{5, nil},
		{9, nil},
	}
	for _, tt := range tests {
		var got []int64
		for _, e := range j.Find(Query{Since: tt.since}) {
			got = append(got, e.Seq)
		}
		if len(got) != len(tt.want) || (len(got) > 0 && (got[0] != tt.want[0] || got[len(got)-1] != tt.want[len(tt.want)-1])) {
			t.Errorf("since %d: %v, want %v", tt.since, got, tt.want)
		}
	}
	if j.Seq() != 5 {
		t.Errorf("Seq %d", j.Seq())
	}
}

func TestWait(t *testing.T) {
	tests := []struct {
		name  string
		since int64
		act   func(*Journal)
		want  bool
	}{
		{"an older entry is there already", 0, nil, true},
		{"woken by the next entry", 1, func(j *Journal) { j.Add(Entry{}) }, true},
		{"woken by Wake (shutdown)", 1, (*Journal).Wake, true},
		{"times out", 1, func(*Journal) {}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := New(10)
			j.Add(Entry{})
			// Long enough that only "times out" reaches it, even on a busy machine.
			limit := 5 * time.Second
			if tt.name == "times out" {
				limit = 100 * time.Millisecond
			}
			ctx, cancel := context.WithTimeout(context.Background(), limit)
			defer cancel()
			if tt.act != nil {
				go func() { time.Sleep(20 * time.Millisecond); tt.act(j) }()
			}
			start := time.Now()
			got := j.Wait(ctx, tt.since)
			if tt.name == "woken by Wake (shutdown)" {
				got = time.Since(start) < 4*time.Second
			}
			if got != tt.want {
				t.Errorf("Wait = %v after %v, want %v", got, time.Since(start), tt.want)
			}
		})
	}
}

func TestResponseKeptAndRedacted(t *testing.T) {
	j := New(4)
	e := Entry{Operation: "createSession", Status: 201}
	h := http.Header{"Content-Type": {"application/json"}, "Set-Cookie": {"sid=abc"}, "Location": {"/v2/sessions/1"}}
	e.SetResponse(h, []byte(`{"sessionId":"1","sessionToken":"tok-secret","code":3,"details":{"password":"p"}}`), DefaultRedactor.ForResponses())
	j.Add(e)
	got := j.All()[0]
	body, _ := got.ResponseBody.(map[string]any)
	tests := []struct{ name, got, want string }{
		{"token redacted", str(body["sessionToken"]), Redacted},
		{"nested password redacted", str(body["details"].(map[string]any)["password"]), Redacted},
		{"error code kept", str(body["code"]), "3"},
		{"id kept", str(body["sessionId"]), "1"},
		{"cookie redacted", got.ResponseHeader.Get("Set-Cookie"), Redacted},
		{"location kept", got.ResponseHeader.Get("Location"), "/v2/sessions/1"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	if h.Get("Set-Cookie") != "sid=abc" {
		t.Error("the kept header was redacted in place")
	}
	// Requests still hide a "code" (an OTP code there).
	if !DefaultRedactor.Secret("code") || DefaultRedactor.ForResponses().Secret("code") {
		t.Error("ForResponses should spare only code")
	}
}

func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

// BenchmarkAdd is what the dashboard costs a vendor request: journal.Add
// with nobody watching, and with a long poll waiting (as when the
// dashboard is open).
func BenchmarkAdd(b *testing.B) {
	for _, watched := range []bool{false, true} {
		name := "unwatched"
		if watched {
			name = "watched"
		}
		b.Run(name, func(b *testing.B) {
			j := New(DefaultSize)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if watched {
				go func() {
					for ctx.Err() == nil {
						j.Wait(ctx, j.Seq())
					}
				}()
			}
			e := Entry{Method: "GET", Path: "/v2/sessions/1", Operation: "SessionService_GetSession", Status: 200}
			b.ReportAllocs()
			for b.Loop() {
				j.Add(e)
			}
		})
	}
}
