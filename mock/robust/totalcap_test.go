package robust_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/idpmock/idpmock/mock/mocktest"
	"github.com/idpmock/idpmock/mock/server"
)

// TestSessionCapTotal: --max-total-sessions bounds the sessions of every
// vendor and environment together (any v4 UUID environment is accepted, so
// the per-environment cap alone bounds nothing); past it each vendor
// answers its own 429, and a state document over either cap is refused
// with a 400 that changes nothing.
func TestSessionCapTotal(t *testing.T) {
	const total = 8
	srv := mocktest.Start(t, mocktest.WithConfig(func(c *server.Config) { c.MaxTotalSessions, c.MaxSessions = total, 5 }))
	pingCreate := func() answer {
		return send(t, srv, request{method: "POST", path: "/v1/environments/" + uuid.NewString() + "/sessions", ctype: "application/json",
			body: []byte(`{"activeAt":"` + nowStamp() + `","userAgent":"cap"}`)})
	}
	created := 0
	var a answer
	for range total + 1 {
		if a = pingCreate(); a.status != 201 {
			break
		}
		created++
	}
	if created == 0 || created > total {
		t.Fatalf("%d creates in new environments before a refusal, want 1..%d", created, total)
	}
	var perr struct {
		Code    string
		Details []struct {
			Code       string
			Message    string
			InnerError struct{ QuotaLimit int }
		}
	}
	_ = json.Unmarshal(a.body, &perr)
	if a.status != 429 || perr.Code != "REQUEST_LIMITED" || len(perr.Details) != 1 || perr.Details[0].Code != "QUOTA_EXCEEDED" ||
		perr.Details[0].InnerError.QuotaLimit != total || !strings.Contains(perr.Details[0].Message, "--max-total-sessions") {
		t.Fatalf("pingone create over the total cap: %d %s", a.status, a.body)
	}
	if err := vendorFormat(facePingOne, a); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/v2/sessions": `"code":8`, "/zitadel.session.v2.SessionService/CreateSession": `"code":"resource_exhausted"`} {
		z := send(t, srv, request{method: "POST", path: path, ctype: "application/json", header: http.Header{"Connect-Protocol-Version": {"1"}},
			body: []byte(`{"checks":{"user":{"loginName":"` + zitadelUser + `"}}}`)})
		if z.status != 429 || !strings.Contains(string(z.body), want) {
			t.Fatalf("zitadel %s over the total cap: %d %s", path, z.status, z.body)
		}
	}

	// PUT /__mock/state: over the total cap, then over the per-environment cap.
	before := send(t, srv, request{method: "GET", path: "/__mock/state"})
	env := uuid.NewString()
	for name, n := range map[string]int{"total": total + 1, "per environment": 6} {
		var list []string
		for i := range n {
			e := env
			if name == "total" {
				e = uuid.NewString()
			}
			list = append(list, fmt.Sprintf(`{"id":%q,"environment":{"id":%q},"userAgent":"doc %d"}`, uuid.NewString(), e, i))
		}
		doc := `{"vendors":{"pingone":{"sessions":[` + strings.Join(list, ",") + `]}}}`
		r := send(t, srv, request{method: "PUT", path: "/__mock/state", ctype: "application/json", body: []byte(doc)})
		if r.status != 400 || !strings.Contains(string(r.body), "--max-") {
			t.Errorf("state over the %s cap: %d %s", name, r.status, r.body)
		}
		after := send(t, srv, request{method: "GET", path: "/__mock/state"})
		if !jsonSame(before.body, after.body, "clock") {
			t.Errorf("a refused state load changed the state")
		}
	}
}

// jsonSame compares two JSON objects without the named members.
func jsonSame(a, b []byte, skip ...string) bool {
	var x, y map[string]json.RawMessage
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	for _, k := range skip {
		delete(x, k)
		delete(y, k)
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}
