package robust_test

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/idpmock/idpmock/mock/mocktest"
)

// TestJournalKeepsNoSecretInQueries: a Connect GET's message (JSON or
// base64 JSON, matched or not) and a malformed body with an escaped secret
// key leave no secret in /__mock/journal or /__mock/journal/unmatched.
func TestJournalKeepsNoSecretInQueries(t *testing.T) {
	srv := mocktest.Start(t)
	const secret = "Zz9-secret-session-token-Zz9"
	msg := `{"sessionId":"1","sessionToken":"` + secret + `"}`
	for _, r := range []request{
		{method: "GET", path: "/zitadel.session.v2.SessionService/GetSession?connect=v1&encoding=json&message=" + url.QueryEscape(msg)},
		{method: "GET", path: "/zitadel.session.v2.SessionService/GetSession?connect=v1&encoding=json&base64=1&message=" + base64.RawURLEncoding.EncodeToString([]byte(msg))},
		{method: "GET", path: "/zitadel.session.v2.SessionService/NoSuchMethod?encoding=json&message=" + url.QueryEscape(msg)},
		{method: "POST", path: "/v2/sessions", ctype: "application/json", body: []byte(`{"sessionTok\u0065n":"` + secret + `",`)},
	} {
		send(t, srv, r)
	}
	for _, path := range []string{"/__mock/journal", "/__mock/journal/unmatched"} {
		a := send(t, srv, request{method: "GET", path: path})
		if a.status != 200 {
			t.Fatalf("%s: %d", path, a.status)
		}
		if strings.Contains(string(a.body), secret) {
			t.Errorf("%s keeps the secret: %s", path, a.body)
		}
	}
}
