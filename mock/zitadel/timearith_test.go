package zitadel_test

import (
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock/clock"
)

// TestLifetimeAtTheEdges: any lifetime a google.protobuf.Duration allows
// (up to 315,576,000,000 s), with the clock anywhere it can stand (up to
// its upper bound, 2262), gives an expirationDate that is RFC 3339, equals
// the clock plus the lifetime (saturated at ~292 years, as ZITADEL's
// AsDuration does), and reads back.
func TestLifetimeAtTheEdges(t *testing.T) {
	srv := start(t)
	_, hi := clock.Bounds(time.Now())
	for _, at := range []time.Time{time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), hi.Add(-time.Hour).Truncate(time.Second)} {
		for _, lt := range []struct {
			text string
			d    time.Duration
		}{
			{"1s", time.Second},
			{"9223372035s", 9223372035 * time.Second},
			{"9223372037s", math.MaxInt64},
			{"315576000000s", math.MaxInt64},
			{"315576000000.999999999s", math.MaxInt64},
		} {
			if err := srv.Clock().Change(clock.Change{Freeze: ptr(true), Set: &at}); err != nil {
				t.Fatal(err)
			}
			id, token := createMini(t, srv, `,"lifetime":"`+lt.text+`"`)
			r := call(t, srv, http.MethodGet, "/v2/sessions/"+id+"?sessionToken="+token, "")
			wantStatus(t, r, http.StatusOK)
			exp, err := time.Parse(time.RFC3339Nano, str(r.body, "session.expirationDate"))
			if err != nil {
				t.Fatalf("clock %s lifetime %s: expirationDate %q: %v", at, lt.text, str(r.body, "session.expirationDate"), err)
			}
			// ZITADEL keeps microseconds (its database's precision).
			if want := at.Add(lt.d); exp.Sub(want).Abs() >= time.Microsecond {
				t.Errorf("clock %s lifetime %s: expirationDate %s, want %s", at, lt.text, exp, want)
			}
		}
	}
}

func ptr[T any](v T) *T { return &v }
