package zitadel_test

import (
	"net/http"
	"regexp"
	"testing"
	"time"
)

// protojson output: zero values omitted, uint64 as strings, RFC 3339 "Z"
// timestamps, base64 metadata, factors only after a user check,
// expirationDate only with a lifetime.
func TestProtoJSONOutput(t *testing.T) {
	srv := start(t)
	r := call(t, srv, http.MethodPost, "/v2/sessions", `{"metadata":{"k":"AQID"},"userAgent":{"fingerprintId":"fp1","ip":"203.0.113.7","header":{"User-Agent":{"values":["x"]}}}}`)
	wantStatus(t, r, http.StatusCreated)
	if has(r.body, "challenges") {
		t.Errorf("challenges without a request for one: %s", r.raw)
	}
	id := str(r.body, "sessionId")
	g := call(t, srv, http.MethodGet, "/v2/sessions/"+id, "")
	s := g.body["session"].(map[string]any)
	for _, absent := range []string{"factors", "expirationDate"} {
		if _, ok := s[absent]; ok {
			t.Errorf("%s must be absent: %s", absent, g.raw)
		}
	}
	if _, ok := s["sequence"].(string); !ok {
		t.Errorf("sequence must be a string: %s", g.raw)
	}
	ts := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?Z$`)
	for _, k := range []string{"creationDate", "changeDate"} {
		if v, _ := s[k].(string); !ts.MatchString(v) {
			t.Errorf("%s %q is not a protojson timestamp", k, v)
		}
	}
	if str(g.body, "session.metadata.k") != "AQID" {
		t.Errorf("metadata: %s", g.raw)
	}
	if str(g.body, "session.userAgent.fingerprintId") != "fp1" || str(g.body, "session.userAgent.header.User-Agent.values.0") != "x" {
		t.Errorf("userAgent: %s", g.raw)
	}
	// The numbers a client may send as strings or numbers.
	for _, q := range []string{`{"query":{"offset":"0","limit":"10"}}`, `{"query":{"offset":0,"limit":10}}`} {
		wantStatus(t, call(t, srv, http.MethodPost, "/v2/sessions/search", q), 200)
	}
	// Unknown fields are ignored.
	wantStatus(t, call(t, srv, http.MethodPost, "/v2/sessions", `{"future":{"x":1},"checks":{"user":{"loginName":"mini@mouse.com","extra":true}}}`), http.StatusCreated)
}

// Every change mints a new token; the old one stops working for Get and
// Delete, and SetSession ignores whatever token it is sent.
func TestTokenRotation(t *testing.T) {
	srv := start(t)
	id, first := createMini(t, srv, "")
	wantStatus(t, call(t, srv, http.MethodGet, "/v2/sessions/"+id+"?sessionToken="+first, ""), 200)

	r := call(t, srv, http.MethodPatch, "/v2/sessions/"+id, `{"sessionToken":"garbage","metadata":{"a":"AQ=="}}`)
	wantStatus(t, r, 200)
	second := str(r.body, "sessionToken")
	if second == "" || second == first {
		t.Fatalf("no new token: %s", r.raw)
	}
	r = call(t, srv, http.MethodGet, "/v2/sessions/"+id+"?sessionToken="+first, "")
	wantError(t, r, 403, 7, "(QUERY-dsfr3)")
	r = call(t, srv, http.MethodDelete, "/v2/sessions/"+id, `{"sessionToken":"`+first+`"}`)
	wantError(t, r, 403, 7, "Session Token is invalid (COMMAND-sGr42)")
	if str(r.body, "details.0.id") != "COMMAND-sGr42" {
		t.Fatalf("detail: %s", r.raw)
	}
	wantStatus(t, call(t, srv, http.MethodGet, "/v2/sessions/"+id+"?sessionToken="+second, ""), 200)

	// Nothing changes: no event, no new token, and none echoed.
	r = call(t, srv, http.MethodPatch, "/v2/sessions/"+id, `{}`)
	wantStatus(t, r, 200)
	if has(r.body, "sessionToken") {
		t.Fatalf("a no-op set minted a token: %s", r.raw)
	}
	wantStatus(t, call(t, srv, http.MethodGet, "/v2/sessions/"+id+"?sessionToken="+second, ""), 200)

	wantStatus(t, call(t, srv, http.MethodDelete, "/v2/sessions/"+id, `{"sessionToken":"`+second+`"}`), 200)
	// Delete is idempotent; a body-less DELETE is fine.
	wantStatus(t, call(t, srv, http.MethodDelete, "/v2/sessions/"+id, ""), 200)
	r = call(t, srv, http.MethodPatch, "/v2/sessions/"+id, `{"metadata":{"a":"AQ=="}}`)
	wantError(t, r, 400, 9, "Session already terminated (COMMAND-Hewfq)")
}

// expirationDate = now + lifetime on the server's clock; an expired
// session cannot be set but is still listed and readable.
func TestLifetime(t *testing.T) {
	srv := start(t)
	srv.Clock().Freeze()
	now := srv.Clock().Now()
	id, _ := createMini(t, srv, `,"lifetime":"3600s"`)
	g := call(t, srv, http.MethodGet, "/v2/sessions/"+id, "")
	exp, err := time.Parse(time.RFC3339Nano, str(g.body, "session.expirationDate"))
	if err != nil || !exp.Equal(usec(now.Add(time.Hour))) {
		t.Fatalf("expirationDate %v, want %v (%v)", exp, now.Add(time.Hour), err)
	}
	// Setting a lifetime restarts it from now.
	srv.Clock().Advance(30 * time.Minute)
	wantStatus(t, call(t, srv, http.MethodPatch, "/v2/sessions/"+id, `{"lifetime":"1.5s"}`), 200)
	g = call(t, srv, http.MethodGet, "/v2/sessions/"+id, "")
	exp = usec(now.Add(30*time.Minute + 1500*time.Millisecond))
	if !mustTime(t, str(g.body, "session.expirationDate")).Equal(exp) {
		t.Fatalf("expirationDate %s, want %v", str(g.body, "session.expirationDate"), exp)
	}
	// At the expiration instant the session still takes changes; ZITADEL
	// refuses only once the expiration is before now.
	srv.Clock().Set(exp)
	wantStatus(t, call(t, srv, http.MethodPatch, "/v2/sessions/"+id, `{"metadata":{"at":"AQ=="}}`), 200)
	srv.Clock().Advance(time.Microsecond)
	r := call(t, srv, http.MethodPatch, "/v2/sessions/"+id, `{"checks":{"password":{"password":"Password1!"}}}`)
	wantError(t, r, 400, 9, "Session has expired (COMMAND-Hkl3d)")
	r = call(t, srv, http.MethodPost, "/v2/sessions/search", `{"queries":[{"idsQuery":{"ids":["`+id+`"]}}]}`)
	if str(r.body, "sessions.0.id") != id {
		t.Fatalf("expired session not listed: %s", r.raw)
	}
	wantStatus(t, call(t, srv, http.MethodGet, "/v2/sessions/"+id, ""), 200)
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMetadata(t *testing.T) {
	srv := start(t)
	id, _ := createMini(t, srv, `,"metadata":{"keep":"a2VlcA==","drop":"ZHJvcA==","change":"b2xk"}`)
	r := call(t, srv, http.MethodPatch, "/v2/sessions/"+id, `{"metadata":{"drop":"","change":"bmV3","add":"YWRkZWQ","gone":""}}`)
	wantStatus(t, r, 200)
	g := call(t, srv, http.MethodGet, "/v2/sessions/"+id, "")
	want := map[string]string{"keep": "a2VlcA==", "change": "bmV3", "add": "YWRkZWQ="}
	md, _ := get(g.body, "session.metadata").(map[string]any)
	if len(md) != len(want) {
		t.Fatalf("metadata %v, want %v", md, want)
	}
	for k, v := range want {
		if md[k] != v {
			t.Errorf("metadata[%s] = %v, want %s", k, md[k], v)
		}
	}
}
