package robust_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/idpmock/idpmock/mock/mocktest"
	"github.com/idpmock/idpmock/mock/server"
)

// TestPingOneSessionInvisibleFromAnotherEnvironment: every environment
// and user endpoint of another environment answers as if the session did
// not exist, and changes nothing.
func TestPingOneSessionInvisibleFromAnotherEnvironment(t *testing.T) {
	srv := mocktest.Start(t)
	l := setup(t, srv)
	other := "/v1/environments/" + uuid.NewString()
	cookie := "ST=" + pingToken
	body := `{"activeAt":"` + nowStamp() + `","userAgent":"intruder","user":{"id":"` + pingUser + `"}}`
	logout := "application/vnd.pingidentity.sso.session.logout"
	before := stateOf(t, srv)
	for _, c := range []struct {
		name           string
		method, path   string
		ctype, body    string
		wantStatus     int
		emptyUserCount bool
	}{
		{"read by id", "GET", other + "/sessions/" + l.pingSession, "", "", 404, false},
		{"update by id", "PUT", other + "/sessions/" + l.pingSession, "application/json", body, 404, false},
		{"reset by id", "POST", other + "/sessions/" + l.pingSession, logout, "", 404, false},
		{"read by token", "GET", other + "/sessions/me", "", "", 404, false},
		{"update by token", "PUT", other + "/sessions/me", "application/json", body, 404, false},
		{"reset by token", "POST", other + "/sessions/me", logout, "", 404, false},
		{"delete by token", "DELETE", other + "/sessions/me", "", "", 404, false},
		{"user's sessions", "GET", other + "/users/" + pingUser + "/sessions", "", "", 200, true},
		{"user's session", "GET", other + "/users/" + pingUser + "/sessions/" + l.pingSession, "", "", 404, false},
		{"delete user's session", "DELETE", other + "/users/" + pingUser + "/sessions/" + l.pingSession, "", "", 404, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := send(t, srv, request{method: c.method, path: c.path, ctype: c.ctype, body: []byte(c.body), cookie: cookie, header: http.Header{}})
			if a.status != c.wantStatus {
				t.Fatalf("%d, want %d: %s", a.status, c.wantStatus, a.body)
			}
			if bytes.Contains(a.body, []byte(l.pingSession)) {
				t.Fatalf("the answer names the other environment's session: %s", a.body)
			}
			if c.emptyUserCount {
				var list struct{ Count int }
				if err := json.Unmarshal(a.body, &list); err != nil || list.Count != 0 {
					t.Fatalf("user's sessions from another environment: %s", a.body)
				}
			} else if err := vendorFormat(facePingOne, a); err != nil {
				t.Fatal(err)
			}
		})
	}
	if stateOf(t, srv) != before {
		t.Fatal("requests from another environment changed the state")
	}
	// The session is still there for its own environment.
	if a := send(t, srv, request{method: "GET", path: "/v1/environments/" + pingEnv + "/sessions/me", cookie: cookie}); a.status != 200 {
		t.Fatalf("own environment by token: %d %s", a.status, a.body)
	}
}

// TestZitadelTokenOpensOnlyItsSession: a session token is no key to any
// other session, on either face.
func TestZitadelTokenOpensOnlyItsSession(t *testing.T) {
	srv := mocktest.Start(t)
	a := setup(t, srv)
	b := setup2(t, srv)
	connect := http.Header{"Connect-Protocol-Version": {"1"}}
	before := stateOf(t, srv)
	for _, c := range []struct {
		name         string
		method, path string
		body         string
		header       http.Header
		want         int
		f            face
	}{
		{"REST get", "GET", "/v2/sessions/" + a.zitadelID + "?sessionToken=" + b.zitadelToken, "", nil, 403, faceREST},
		{"REST delete", "DELETE", "/v2/sessions/" + a.zitadelID, `{"sessionToken":"` + b.zitadelToken + `"}`, nil, 403, faceREST},
		{"Connect get", "POST", "/zitadel.session.v2.SessionService/GetSession", `{"sessionId":"` + a.zitadelID + `","sessionToken":"` + b.zitadelToken + `"}`, connect, 403, faceConnect},
		{"Connect delete", "POST", "/zitadel.session.v2.SessionService/DeleteSession", `{"sessionId":"` + a.zitadelID + `","sessionToken":"` + b.zitadelToken + `"}`, connect, 403, faceConnect},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := request{method: c.method, path: c.path, header: c.header}
			if c.body != "" {
				r.body, r.ctype = []byte(c.body), "application/json"
			}
			got := send(t, srv, r)
			if got.status != c.want {
				t.Fatalf("%d, want %d: %s", got.status, c.want, got.body)
			}
			if err := vendorFormat(c.f, got); err != nil {
				t.Fatal(err)
			}
		})
	}
	if stateOf(t, srv) != before {
		t.Fatal("a foreign token changed the state")
	}
	if got := send(t, srv, request{method: "GET", path: "/v2/sessions/" + a.zitadelID + "?sessionToken=" + a.zitadelToken}); got.status != 200 {
		t.Fatalf("own token: %d %s", got.status, got.body)
	}
}

// setup2 adds a second ZITADEL session without resetting.
func setup2(t *testing.T, srv *mocktest.Server) live {
	t.Helper()
	r := send(t, srv, request{method: "POST", path: "/v2/sessions", ctype: "application/json",
		body: []byte(`{"checks":{"user":{"loginName":"` + zitadelUser + `"}}}`)})
	var z struct{ SessionID, SessionToken string }
	if err := json.Unmarshal(r.body, &z); err != nil || r.status != 201 {
		t.Fatalf("second session: %d %s", r.status, r.body)
	}
	return live{zitadelID: z.SessionID, zitadelToken: z.SessionToken}
}

// TestAdminLockedAndSameOrigin: with --admin-token the control API needs
// it, and no browser page of another origin can reach it, token or not.
func TestAdminLockedAndSameOrigin(t *testing.T) {
	const token = "admin-s3cret"
	srv := mocktest.Start(t, mocktest.WithConfig(func(c *server.Config) { c.Admin.Token = token }))
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, c := range []struct {
		name   string
		method string
		header http.Header
		want   int
	}{
		{"no token", "GET", nil, 401},
		{"wrong token", "GET", http.Header{"Authorization": {"Bearer nope"}}, 401},
		{"vendor-style token", "GET", http.Header{"Authorization": {"Bearer robust-test"}}, 401},
		{"right token", "GET", http.Header{"Authorization": {"Bearer " + token}}, 200},
		{"right token, other origin", "GET", http.Header{"Authorization": {"Bearer " + token}, "Origin": {"https://evil.example"}}, 403},
		{"right token, null origin", "GET", http.Header{"Authorization": {"Bearer " + token}, "Origin": {"null"}}, 403},
		{"right token, cross-site fetch", "GET", http.Header{"Authorization": {"Bearer " + token}, "Sec-Fetch-Site": {"cross-site"}}, 403},
		{"right token, same origin", "GET", http.Header{"Authorization": {"Bearer " + token}, "Origin": {"http://" + host}}, 200},
		{"right token, reset from other origin", "POST", http.Header{"Authorization": {"Bearer " + token}, "Origin": {"https://evil.example"}}, 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := "/__mock/state"
			if c.method == "POST" {
				path = "/__mock/reset"
			}
			h := http.Header{}
			for k, v := range c.header {
				h[k] = v
			}
			got := send(t, srv, request{method: c.method, path: path, header: h, noAuth: h.Get("Authorization") == ""})
			if got.status != c.want {
				t.Fatalf("%d, want %d: %s", got.status, c.want, got.body)
			}
			if got.header.Get("Access-Control-Allow-Origin") != "" {
				t.Fatalf("the admin API sent CORS headers: %v", got.header)
			}
		})
	}
	// A preflight to the admin API is not granted; to a vendor route it is.
	for path, granted := range map[string]bool{"/__mock/state": false, "/v2/sessions": true} {
		got := send(t, srv, request{method: "OPTIONS", path: path, noAuth: true, header: http.Header{
			"Origin": {"https://app.example"}, "Access-Control-Request-Method": {"PUT"}}})
		if has := got.header.Get("Access-Control-Allow-Origin") != ""; has != granted {
			t.Errorf("preflight %s: Access-Control-Allow-Origin %q, want granted=%v", path, got.header.Get("Access-Control-Allow-Origin"), granted)
		}
	}
}

// syncBuffer is a log sink for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestNoSecretInAnswersOrLogs drives logins with passwords and one-time
// codes, right and wrong, valid and invalid, and checks that neither answers nor log lines (debug
// level, vendor lines included) carry a password or a code.
func TestNoSecretInAnswersOrLogs(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := mocktest.Start(t, mocktest.WithConfig(func(c *server.Config) { c.Log = log }))
	const password = "Password1!"       // mini's fixture password
	const wrongPassword = "Wr0ng-P4ss!" // never valid
	const marker = "L34K-M4RK3R"
	secrets := []string{password, wrongPassword, marker}
	var answers []answer
	call := func(method, path, body string) answer {
		a := send(t, srv, request{method: method, path: path, ctype: "application/json", body: []byte(body)})
		answers = append(answers, a)
		return a
	}
	create := call("POST", "/v2/sessions", `{"checks":{"user":{"loginName":"`+zitadelUser+`"},"password":{"password":"`+password+`"}}}`)
	var s struct{ SessionID string }
	_ = json.Unmarshal(create.body, &s)
	if create.status != 201 || s.SessionID == "" {
		t.Fatalf("login: %d %s", create.status, create.body)
	}
	id := s.SessionID
	for _, body := range []string{
		`{"checks":{"password":{"password":"` + wrongPassword + `"}}}`,
		`{"checks":{"password":{"password":"` + wrongPassword + strings.Repeat("x", 300) + `"}}}`,
		`{"checks":{"totp":{"code":"` + marker[:6] + `"}}}`,
		`{"checks":{"otpSms":{"code":"` + marker + `"}}}`,
		`{"challenges":{"otpSms":{}}}`, // "sends" the code: the mock logs it
		`{"checks":{"otpSms":{"code":"` + marker + `"}}}`,
		`{"checks":{"recoveryCode":{"code":"` + marker + `"}}}`,
	} {
		call("PATCH", "/v2/sessions/"+id, body)
	}
	call("POST", "/zitadel.session.v2.SessionService/CreateSession", `{"checks":{"user":{"loginName":"`+zitadelUser+`"},"password":{"password":"`+wrongPassword+`"}}}`)
	for _, a := range answers {
		for _, s := range secrets {
			if bytes.Contains(a.body, []byte(s)) {
				t.Errorf("an answer carries %q: %s", s, a.body)
			}
		}
	}
	out := logs.String()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("the log carries %q:\n%s", s, grepLines(out, s))
		}
	}
	var codeLines int
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		if msg, _ := line["msg"].(string); strings.Contains(msg, "OTP SMS code") {
			codeLines++
			if line["code"] != "[REDACTED]" {
				t.Errorf("OTP code logged: %s", sc.Text())
			}
		}
	}
	if codeLines != 1 {
		t.Errorf("%d OTP SMS log lines, want 1", codeLines)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
