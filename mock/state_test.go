package mock_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// A state load that one vendor refuses must leave every vendor and the
// clock as they were.
func TestRefusedStateLoadChangesNothing(t *testing.T) {
	srv := startBoth(t)
	created := do(t, srv, http.MethodPost, "/v2/sessions", `{"checks":{"user":{"loginName":"mini@mouse.com"}}}`)
	if created.status != http.StatusCreated {
		t.Fatalf("create: %d %s", created.status, created.body)
	}
	before := do(t, srv, http.MethodGet, "/__mock/state", "")
	if before.status != http.StatusOK {
		t.Fatalf("dump: %d %s", before.status, before.body)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(before.body), &doc); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(map[string]any)
	}{
		// Well-formed, so it passes the admin API's schema, but ZITADEL
		// refuses it after PingOne (loaded first) has taken its part.
		{"zitadel duplicate session", func(d map[string]any) {
			z := d["vendors"].(map[string]any)["zitadel"].(map[string]any)
			ss := z["sessions"].([]any)
			z["sessions"] = append(ss, ss[0])
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var bad map[string]any
			_ = json.Unmarshal([]byte(before.body), &bad)
			clk := bad["clock"].(map[string]any)
			clk["now"], clk["frozen"] = "2040-01-01T00:00:00Z", true
			bad["vendors"].(map[string]any)["pingone"] = map[string]any{"sessions": []any{}}
			tt.edit(bad)
			raw, _ := json.Marshal(bad)
			r := do(t, srv, http.MethodPut, "/__mock/state", string(raw))
			if r.status != http.StatusBadRequest || !strings.Contains(r.body, "zitadel") {
				t.Fatalf("bad load: %d %s", r.status, r.body)
			}
			after := do(t, srv, http.MethodGet, "/__mock/state", "")
			var a map[string]any
			_ = json.Unmarshal([]byte(after.body), &a)
			if got, want := mustJSON(a["vendors"]), mustJSON(doc["vendors"]); got != want {
				t.Fatalf("vendors changed by a refused load:\n got %s\nwant %s", got, want)
			}
			if fz := a["clock"].(map[string]any)["frozen"]; fz != false {
				t.Fatalf("clock frozen by a refused load: %v", a["clock"])
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// A state document that breaks a vendor's schema is reported as a state
// document (with the vendor and pointer), never as a fixture file.
func TestBadStateDocumentIsNamedAsSuch(t *testing.T) {
	srv := startBoth(t)
	for _, c := range []struct{ doc, want string }{
		{`{"vendors":{"zitadel":{"sessions":"nope"}}}`, "state document vendors.zitadel: /sessions"},
		{`{"vendors":{"pingone":{"sessions":[{"id":1}]}}}`, "state document vendors.pingone: /sessions/0"},
	} {
		r := do(t, srv, http.MethodPut, "/__mock/state", c.doc)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, c.want) || strings.Contains(r.body, "fixture") {
			t.Errorf("PUT %s: %d %s, want 400 naming %q", c.doc, r.status, r.body, c.want)
		}
	}
}
