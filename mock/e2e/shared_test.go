package e2e

import (
	"testing"

	"github.com/idpmock/idpmock/mock/mocktest"
)

// TestClockAcrossReplicas: the clock moved on one replica expires sessions
// on the other.
func TestClockAcrossReplicas(t *testing.T) {
	r := mocktest.StartReplicas(t, nReplicas)
	c := r.Client()
	a, b := r.Servers[0].URL, r.Servers[len(r.Servers)-1].URL
	p1 := must(t, c, "POST", pingOneSessions(a), pingOneSession("192.0.2.7"), 201) // idle 60 min
	pingURL := "/v1/environments/" + envID + "/sessions/" + str(p1.body, "id")
	z := must(t, c, "POST", a+"/v2/sessions", map[string]any{"lifetime": "3600s"}, 201)
	zURL := "/v2/sessions/" + str(z.body, "sessionId")
	must(t, c, "GET", b+pingURL, nil, 200)
	must(t, c, "PATCH", b+zURL, map[string]any{"metadata": map[string]any{"k": "AA=="}}, 200)

	must(t, c, "PUT", b+"/__mock/clock", map[string]any{"advance": "2h"}, 200)
	if got := must(t, c, "GET", a+"/__mock/clock", nil, 200); str(got.body, "offset") != "2h0m0s" {
		t.Errorf("clock on the other replica: %s, want offset 2h0m0s", got)
	}
	// PingOne: an idle session past its timeout is gone.
	if got := must(t, c, "GET", a+pingURL, nil, 404); str(got.body, "code") != "NOT_FOUND" {
		t.Errorf("expired PingOne session: %s", got)
	}
	// ZITADEL: an expired session is still readable but refuses changes.
	if got := must(t, c, "PATCH", a+zURL, map[string]any{"metadata": map[string]any{"k": "AQ=="}}, 400); str(got.body, "message") != "Session has expired (COMMAND-Hkl3d)" {
		t.Errorf("expired ZITADEL session: %s", got)
	}
}

// TestResetAcrossReplicas: reset on one replica resets both: sessions,
// clock, overrides, journal.
func TestResetAcrossReplicas(t *testing.T) {
	r := mocktest.StartReplicas(t, nReplicas)
	c := r.Client()
	a, b := r.Servers[0].URL, r.Servers[len(r.Servers)-1].URL
	p1 := must(t, c, "POST", pingOneSessions(a), pingOneSession("192.0.2.8"), 201)
	pingURL := "/v1/environments/" + envID + "/sessions/" + str(p1.body, "id")
	z := must(t, c, "POST", a+"/v2/sessions", map[string]any{}, 201)
	zURL := "/v2/sessions/" + str(z.body, "sessionId")
	must(t, c, "PUT", a+"/__mock/clock", map[string]any{"advance": "1m"}, 200)
	must(t, c, "POST", a+"/__mock/overrides", map[string]any{"operation": "readSession", "status": 429}, 201)

	must(t, c, "POST", b+"/__mock/reset", nil, 204)

	must(t, c, "GET", a+pingURL, nil, 404)
	must(t, c, "GET", a+zURL, nil, 404)
	if got := must(t, c, "GET", a+"/__mock/clock", nil, 200); str(got.body, "offset") != "0s" {
		t.Errorf("clock after a reset on the other replica: %s", got)
	}
	got := must(t, c, "GET", a+"/__mock/overrides", nil, 200)
	if ov, ok := got.body["overrides"].([]any); !ok || len(ov) != 0 {
		t.Errorf("overrides after a reset on the other replica: %s", got)
	}
}

// TestOverrideTimesAcrossReplicas: an override "3 times" set on one
// replica answers exactly 3 of the requests spread over both.
func TestOverrideTimesAcrossReplicas(t *testing.T) {
	r := mocktest.StartReplicas(t, nReplicas)
	c := r.Client()
	p1 := must(t, c, "POST", pingOneSessions(r.URL), pingOneSession("192.0.2.9"), 201)
	url := pingOneSessions(r.URL) + "/" + str(p1.body, "id")
	must(t, c, "POST", r.Servers[0].URL+"/__mock/overrides", map[string]any{"operation": "readSession", "status": 429, "times": 3}, 201)
	overridden := 0
	for range 10 {
		got, err := call(c, "GET", url, nil)
		if err != nil {
			t.Fatal(err)
		}
		switch got.status {
		case 429:
			overridden++
		case 200:
		default:
			t.Errorf("read: %s", got)
		}
	}
	if overridden != 3 {
		t.Errorf("override times 3 answered %d of 10 reads over %d replicas", overridden, len(r.Servers))
	}
}

// TestJournalAcrossReplicas: Verify on one replica counts the requests
// every replica served.
func TestJournalAcrossReplicas(t *testing.T) {
	r := mocktest.StartReplicas(t, nReplicas)
	c := r.Client()
	p1 := must(t, c, "POST", pingOneSessions(r.URL), pingOneSession("192.0.2.10"), 201)
	url := pingOneSessions(r.URL) + "/" + str(p1.body, "id")
	for range 4 {
		must(t, c, "GET", url, nil, 200)
	}
	for _, s := range r.Servers {
		s.Verify(t, "readSession", 4)
		s.Verify(t, "createSession", 1)
	}
}
