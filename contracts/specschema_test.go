package contracts_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSpecSchemasTranslation: the OAS 3.0 → JSON Schema translation keeps
// nullable, formats and additionalProperties as the spec means them.
func TestSpecSchemasTranslation(t *testing.T) {
	ss := specSchemas(t, vendors(t))["pingone"]
	const session = `{"_links":{"self":{"href":"https://api.pingone.com/v1/environments/abfba8f6-49eb-49f5-a5d9-80ad5c98f9f6/sessions/ee14fe02-6b74-46b3-81f2-2de2a384fa1b"},"environment":{"href":"https://api.pingone.com/v1/environments/abfba8f6-49eb-49f5-a5d9-80ad5c98f9f6"}},
"id":"ee14fe02-6b74-46b3-81f2-2de2a384fa1b","environment":{"id":"abfba8f6-49eb-49f5-a5d9-80ad5c98f9f6"},"createdAt":"2022-10-04T17:10:30.531Z","activeAt":"2022-10-04T17:12:19.890Z",
"idleTimeoutInMinutes":72000,"userAgent":"x","browser":{"name":"Other"},"operatingSystem":{"name":"Other"},"device":{"type":"Other"},"locations":[],"lastSignOn":null,"expiresAt":"2022-11-23T17:12:19.890Z"}`
	tests := []struct {
		name    string
		edit    func(map[string]any)
		pointer string // "" means valid
		rule    string
	}{
		{"nullable lastSignOn may be null", func(map[string]any) {}, "", ""},
		{"date-time format", func(m map[string]any) { m["createdAt"] = "yesterday" }, "/createdAt", "format"},
		{"uuid format", func(m map[string]any) { m["id"] = "session-1" }, "/id", "format"},
		{"type", func(m map[string]any) { m["idleTimeoutInMinutes"] = "72000" }, "/idleTimeoutInMinutes", "type"},
		{"required", func(m map[string]any) { delete(m, "expiresAt") }, "", "required"},
		{"maxItems", func(m map[string]any) {
			loc := map[string]any{"at": "2022-08-17T01:21:30.116Z", "remoteIp": "1.2.3.4"}
			m["locations"] = []any{loc, loc, loc, loc, loc, loc}
		}, "/locations", "maxItems"},
		{"additionalProperties schema", func(m map[string]any) {
			m["lastSignOn"] = map[string]any{"remoteIp": "1.2.3.4", "authenticators": []any{"pwd"},
				"withAuthenticator": map[string]any{"pwd": map[string]any{"at": "2022-08-17T01:21:30.116Z"}}}
		}, "/lastSignOn/withAuthenticator/pwd", "required"},
		{"non-nullable object is not null", func(m map[string]any) { m["browser"] = nil }, "/browser", "type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal([]byte(session), &doc); err != nil {
				t.Fatal(err)
			}
			tt.edit(doc)
			fs := ss.Check("#/components/schemas/Session", "test", "", doc)
			if tt.rule == "" {
				if len(fs) > 0 {
					t.Fatalf("valid session refused:%s", findingsText(fs))
				}
				return
			}
			got := findingsText(fs)
			if !strings.Contains(got, "at "+tt.pointer) || !strings.Contains(got, "rule "+tt.rule) {
				t.Errorf("want %s (rule %s), got:%s", tt.pointer, tt.rule, got)
			}
		})
	}
}
