package journal

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// TestRedactionGaps: a secret is not kept whichever way it arrives: in a
// Connect GET's ?message= (JSON, base64url JSON, proto), in a query that
// does not parse, or in a malformed body whose key is escaped.
func TestRedactionGaps(t *testing.T) {
	const secret = "s3cr3t-T0ken-value"
	msg := `{"sessionId":"123","sessionToken":"` + secret + `"}`
	b64 := base64.RawURLEncoding.EncodeToString([]byte(msg))
	queries := []struct {
		name, raw, keep string
	}{
		{"connect get json", "connect=v1&encoding=json&message=" + url.QueryEscape(msg), "sessionId"},
		{"connect get base64 json", "connect=v1&encoding=json&base64=1&message=" + b64, "connect=v1"},
		{"connect get proto", "connect=v1&encoding=proto&base64=1&message=" + base64.RawURLEncoding.EncodeToString([]byte("\x0a\x03123\x12\x12"+secret)), "encoding=proto"},
		{"json value in any parameter", "filter=" + url.QueryEscape(msg), "sessionId"},
		{"query that does not parse", "x=%zz&sessionToken=" + secret, "not kept"},
		{"escaped json key in message", "encoding=json&message=" + url.QueryEscape(`{"tok\u0065n":"`+secret+`"}`), "REDACTED"},
		{"no secret: kept as sent", "connect=v1&encoding=json&message=" + url.QueryEscape(`{"sessionId":"1"}`), "sessionId"},
	}
	for _, tt := range queries {
		got := DefaultRedactor.Query(tt.raw)
		dec, _ := url.QueryUnescape(got)
		if strings.Contains(got, secret) || strings.Contains(dec, secret) {
			t.Errorf("%s: secret kept: %s", tt.name, got)
		}
		if b, err := base64.RawURLEncoding.DecodeString(url.Values(must(url.ParseQuery(got))).Get("message")); err == nil && strings.Contains(string(b), secret) {
			t.Errorf("%s: secret kept in base64: %s", tt.name, b)
		}
		if !strings.Contains(dec, tt.keep) {
			t.Errorf("%s: lost %q: %s", tt.name, tt.keep, dec)
		}
	}
	bodies := []struct{ name, ct, body string }{
		{"escaped key, malformed", "application/json", `{"tok\u0065n":"` + secret + `",`},
		{"escaped key, suffix", "application/json", `{"sessionTok\u0065n":"` + secret},
		{"percent-escaped form key, malformed", "application/x-www-form-urlencoded", "tok%65n=" + secret + "&x=%zz"},
		{"escaped key, valid", "application/json", `{"tok\u0065n":"` + secret + `"}`},
		{"escape in the middle of another", "text/plain", `{"tok%5Cu0065n":"` + secret},
	}
	for _, tt := range bodies {
		got, _ := json.Marshal(DefaultRedactor.Body(tt.ct, []byte(tt.body)))
		if strings.Contains(string(got), secret) {
			t.Errorf("%s: secret kept: %s", tt.name, got)
		}
	}
}

func must[T any](v T, _ error) T { return v }
