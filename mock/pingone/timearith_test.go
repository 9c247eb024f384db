package pingone_test

import (
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock/pingone"
)

// TestIdleTimeoutProperty: every idleTimeoutInMinutes the spec allows
// (1..2^31-1), with any activeAt, gives either 201 with expiresAt exactly
// activeAt plus the timeout (in RFC 3339) and a session that reads back, or
// PingOne's 400 OUT_OF_RANGE naming the field when the sum is past year
// 9999. Nothing unrenderable is stored: the user's list keeps answering 200.
func TestIdleTimeoutProperty(t *testing.T) {
	srv := start(t, pingone.Options{}, t0)
	list := "/v1/environments/" + envID + "/users/" + userID + "/sessions"
	last := time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC)
	rng := rand.New(rand.NewPCG(14, 14))
	type tc struct {
		active time.Time
		idle   int64
	}
	cases := []tc{
		{t0, 1}, {t0, 153_722_867}, {t0, 153_722_868}, {t0, math.MaxInt32},
		{time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), 1},
		{time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), 24 * 60},
		{time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), 24*60 - 1},
		{time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), math.MaxInt32},
		{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), math.MaxInt32},
		{time.Date(7000, 1, 1, 0, 0, 0, 0, time.UTC), math.MaxInt32},
	}
	for range 40 {
		year := 1 + rng.IntN(9999)
		cases = append(cases, tc{time.Date(year, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), 0, 0, time.UTC), 1 + rng.Int64N(math.MaxInt32)})
	}
	for _, c := range cases {
		for _, quoted := range []bool{false, true} {
			idle := strconv.FormatInt(c.idle, 10)
			if quoted {
				idle = strconv.Quote(idle)
			}
			want := time.Unix(c.active.Unix()+c.idle*60, 0).UTC()
			r := call(t, srv, http.MethodPost, sessionsPath, sessionJSON(c.active, idle, ""))
			if want.After(last) {
				b := errorBody(t, r, http.StatusBadRequest, "INVALID_DATA")
				if got := str(b, "details.0.target"); got != "idleTimeoutInMinutes" {
					t.Errorf("activeAt %s idle %d: target %q, want idleTimeoutInMinutes: %s", c.active, c.idle, got, r.Raw)
				}
				if got := str(b, "details.0.code"); got != "OUT_OF_RANGE" {
					t.Errorf("activeAt %s idle %d: code %q: %s", c.active, c.idle, got, r.Raw)
				}
				continue
			}
			mustStatus(t, r, http.StatusCreated)
			exp := mustTime(t, str(r.Body, "expiresAt"))
			if !exp.Equal(want) {
				t.Errorf("activeAt %s idle %d: expiresAt %s, want %s", c.active, c.idle, exp, want)
			}
			if n, _ := get(r.Body, "idleTimeoutInMinutes").(float64); int64(n) != c.idle {
				t.Errorf("idleTimeoutInMinutes %v, want %d", get(r.Body, "idleTimeoutInMinutes"), c.idle)
			}
			// Reads back through the users endpoint, which finds expired sessions too.
			rb := call(t, srv, http.MethodGet, list+"/"+str(r.Body, "id"), "")
			mustStatus(t, rb, http.StatusOK)
			if str(rb.Body, "expiresAt") != str(r.Body, "expiresAt") {
				t.Errorf("read back expiresAt %s, created %s", str(rb.Body, "expiresAt"), str(r.Body, "expiresAt"))
			}
			if !want.Before(t0) {
				// Not expired at the clock: the environment endpoint reads it too.
				mustStatus(t, call(t, srv, http.MethodGet, sessionsPath+"/"+str(r.Body, "id"), ""), http.StatusOK)
			}
		}
	}
	mustStatus(t, call(t, srv, http.MethodGet, list, ""), http.StatusOK)
}

// TestUpdatePastYear9999: an update whose activeAt pushes the kept timeout
// past year 9999 is refused naming activeAt, and changes nothing.
func TestUpdatePastYear9999(t *testing.T) {
	srv := start(t, pingone.Options{}, t0)
	id := str(create(t, srv, sessionJSON(t0, "2147483647", "")), "id")
	far := time.Date(9999, 6, 1, 0, 0, 0, 0, time.UTC)
	b := errorBody(t, call(t, srv, http.MethodPut, sessionsPath+"/"+id, sessionJSON(far, "", "")), http.StatusBadRequest, "INVALID_DATA")
	if got := str(b, "details.0.target"); got != "activeAt" {
		t.Errorf("target %q, want activeAt: %v", got, b)
	}
	r := call(t, srv, http.MethodGet, sessionsPath+"/"+id, "")
	mustStatus(t, r, http.StatusOK)
	if got := mustTime(t, str(r.Body, "activeAt")); !got.Equal(t0) {
		t.Errorf("activeAt %s after a refused update, want %s", got, t0)
	}
	mustStatus(t, call(t, srv, http.MethodGet, "/v1/environments/"+envID+"/users/"+userID+"/sessions", ""), http.StatusOK)
}
