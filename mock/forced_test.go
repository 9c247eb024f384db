package mock_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// Forced errors (overrides, Prefer: code=) read like the vendor's own: a
// fresh PingOne id each time, ZITADEL's words, the vendor's generic error
// body for statuses the spec does not declare.
func TestForcedErrorsLookLikeTheVendors(t *testing.T) {
	srv := startBoth(t)
	pingPath := "/v1/environments/" + pingEnv + "/sessions/" + pingSession
	pingOp := operationID(t, srv, "pingone", "GET", "/v1/environments/{envID}/sessions/{sessionID}")
	zitOp := "SessionService_ListSessions"
	connectOp := "Connect_ListSessions"
	type target struct {
		vendor, op, method, path, body string
	}
	targets := []target{
		{"pingone", pingOp, "GET", pingPath, ""},
		{"zitadel", zitOp, "POST", "/v2/sessions/search", `{}`},
		{"zitadel-connect", connectOp, "POST", "/zitadel.session.v2.SessionService/ListSessions", `{}`},
	}
	statuses := []int{400, 404, 409, 418, 422, 429, 500, 502, 503}
	for _, tg := range targets {
		for _, status := range statuses {
			for _, how := range []string{"override", "prefer"} {
				t.Run(fmt.Sprintf("%s/%d/%s", tg.vendor, status, how), func(t *testing.T) {
					var bodies []string
					for range 2 {
						var r reply
						if how == "override" {
							o := do(t, srv, "POST", "/__mock/overrides", fmt.Sprintf(`{"operation":%q,"status":%d,"times":1}`, tg.op, status))
							if o.status != 201 {
								if strings.Contains(o.body, "does not declare") || strings.Contains(o.body, "off-spec") {
									t.Skipf("override refused (undeclared status needs --allow-off-spec): %s", o.body)
								}
								t.Fatalf("override: %d %s", o.status, o.body)
							}
							r = do(t, srv, tg.method, tg.path, tg.body)
						} else {
							r = doWith(t, srv, tg.method, tg.path, tg.body, "Prefer", fmt.Sprintf("code=%d", status))
						}
						if r.status != status {
							t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
						}
						bodies = append(bodies, r.body)
					}
					for _, b := range bodies {
						var doc map[string]any
						if err := json.Unmarshal([]byte(b), &doc); err != nil {
							t.Fatalf("not a JSON error document: %q", b)
						}
						if strings.Contains(strings.ToLower(b), "idpmock") || strings.Contains(b, "forced") {
							t.Errorf("mock wording in a vendor error: %s", b)
						}
						switch tg.vendor {
						case "pingone":
							for _, k := range []string{"id", "code", "message"} {
								if s, _ := doc[k].(string); s == "" {
									t.Errorf("PingOne error without %q: %s", k, b)
								}
							}
						case "zitadel":
							if _, ok := doc["code"].(float64); !ok || doc["message"] == "" {
								t.Errorf("not a grpc-gateway error: %s", b)
							}
						case "zitadel-connect":
							if s, _ := doc["code"].(string); s == "" {
								t.Errorf("not a Connect error: %s", b)
							}
						}
					}
					if tg.vendor == "pingone" {
						var a, b struct{ ID string }
						_ = json.Unmarshal([]byte(bodies[0]), &a)
						_ = json.Unmarshal([]byte(bodies[1]), &b)
						if a.ID == b.ID {
							t.Errorf("two forced errors share the id %s", a.ID)
						}
					}
				})
			}
		}
	}
}
