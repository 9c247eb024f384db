package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/idpmock/idpmock/mock/mocktest"
)

// TestRoundTripsPerOperation pins what one HTTP request costs in Redis
// round trips, end to end through a replica (routing, overrides, clock,
// journal, vendor): on the answer's path, reads 1 and writes at most 2 (the
// control data comes from the bus, not from a read per request); the
// journal entry is one more, written after the answer. A higher count is a
// regression to fix where it comes from, not a number to raise here.
func TestRoundTripsPerOperation(t *testing.T) {
	r := mocktest.StartReplicas(t, nReplicas)
	s := r.Servers[0]
	c := s.Client()
	base := s.URL
	rt := func() uint64 { return s.Mock.Stores().RoundTrips() }

	type op struct {
		name, kind string
		do         func(t *testing.T) // one request, checked
	}
	var pingID, zID string
	pingURL := func() string { return pingOneSessions(base) + "/" + pingID }
	ops := []op{
		{"pingone createSession", "write", func(t *testing.T) {
			pingID = str(must(t, c, "POST", pingOneSessions(base), pingOneSession("192.0.2.20"), 201).body, "id")
		}},
		{"pingone readSession", "read", func(t *testing.T) { must(t, c, "GET", pingURL(), nil, 200) }},
		{"pingone updateSession", "write", func(t *testing.T) { must(t, c, "PUT", pingURL(), pingOneSession("192.0.2.21"), 200) }},
		{"pingone readUserSessions", "read", func(t *testing.T) {
			must(t, c, "GET", base+"/v1/environments/"+envID+"/users/"+userID+"/sessions", nil, 200)
		}},
		{"pingone deleteUserSession", "write", func(t *testing.T) {
			must(t, c, "DELETE", base+"/v1/environments/"+envID+"/users/"+userID+"/sessions/"+pingID, nil, 204)
		}},
		{"zitadel CreateSession (user check)", "write", func(t *testing.T) {
			zID = str(must(t, c, "POST", base+"/v2/sessions", map[string]any{"checks": map[string]any{"user": map[string]any{"loginName": "mini@mouse.com"}}}, 201).body, "sessionId")
		}},
		{"zitadel GetSession", "read", func(t *testing.T) { must(t, c, "GET", base+"/v2/sessions/"+zID, nil, 200) }},
		{"zitadel SetSession (metadata)", "write", func(t *testing.T) {
			must(t, c, "PATCH", base+"/v2/sessions/"+zID, map[string]any{"metadata": map[string]any{"k": "AA=="}}, 200)
		}},
		{"zitadel ListSessions (by id)", "read", func(t *testing.T) {
			must(t, c, "POST", base+"/v2/sessions/search", map[string]any{"queries": []any{map[string]any{"idsQuery": map[string]any{"ids": []string{zID}}}}}, 200)
		}},
		{"zitadel DeleteSession", "write", func(t *testing.T) { must(t, c, "DELETE", base+"/v2/sessions/"+zID, map[string]any{}, 200) }},
	}
	// Three rounds; the counts are the last round's, in steady state (the
	// first use of a script may cost one more round trip to load it).
	// MONITOR names the commands, so a count too high says where it comes
	// from.
	mon := startMonitor(t, strings.TrimSuffix(strings.TrimPrefix(r.Store, "redis://"), "/0"), r.Prefix)
	got := make([]uint64, len(ops))
	journaled := make([]int, len(ops))
	sent := make([][]string, len(ops))
	for range 3 {
		for i, o := range ops {
			s.Mock.Journal().Drain() // the entries of the requests before
			mon.take(t)
			before := rt()
			o.do(t)
			s.Mock.Journal().Drain() // the entry, written after the answer
			sent[i] = mon.take(t)
			journaled[i] = 0
			for _, c := range sent[i] {
				if strings.Contains(c, "{journal}") {
					journaled[i]++
				}
			}
			got[i] = rt() - before - uint64(journaled[i])
		}
	}
	var table strings.Builder
	for i, o := range ops {
		fmt.Fprintf(&table, "\n  %-36s %-5s %d + %d journal   %s", o.name, o.kind, got[i], journaled[i], strings.Join(sent[i], ", "))
		if want := map[string]uint64{"read": 1, "write": 2}[o.kind]; got[i] > want || got[i] == 0 {
			t.Errorf("%s (%s): %d round trips to Redis on the answer's path, want %s", o.name, o.kind, got[i],
				map[string]string{"read": "1", "write": "1 or 2"}[o.kind])
		}
		if journaled[i] != 1 {
			t.Errorf("%s: %d journal commands, want 1 (the entry)", o.name, journaled[i])
		}
	}
	t.Logf("round trips per request:%s", table.String())
}
