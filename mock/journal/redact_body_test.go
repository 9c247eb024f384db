package journal

import (
	"encoding/json"
	"strings"
	"testing"
)

// Bodies are redacted by field name whatever Content-Type the client sent,
// and text that cannot be parsed is not kept when it names a secret.
func TestBodyRedactionIgnoresContentType(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		leak                    string // must not appear in the stored body
		keep                    string // must appear
	}{
		{"json as json", "application/json", `{"checks":{"password":{"password":"Sup3r!"}}}`, "Sup3r!", "checks"},
		{"json sent as a form", "application/x-www-form-urlencoded", `{"checks":{"password":{"password":"Sup3r!"}}}`, "Sup3r!", "checks"},
		{"json without a type", "", `{"otpEmail":{"code":"12345678"}}`, "12345678", "otpEmail"},
		{"real form", "application/x-www-form-urlencoded", `user=mini&password=Sup3r!`, "Sup3r!", "mini"},
		{"truncated json with a secret", "application/json", `{"password":"Sup3r!`, "Sup3r!", "not valid JSON"},
		{"truncated json without a secret", "application/json", `{"activeAt":`, "", `{"activeAt":`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(DefaultRedactor.Body(tt.contentType, []byte(tt.body)))
			if err != nil {
				t.Fatal(err)
			}
			if tt.leak != "" && strings.Contains(string(got), tt.leak) {
				t.Fatalf("secret kept: %s", got)
			}
			if !strings.Contains(string(got), tt.keep) && !strings.Contains(string(got), strings.ReplaceAll(tt.keep, `"`, `\"`)) {
				t.Fatalf("lost %q: %s", tt.keep, got)
			}
		})
	}
}
