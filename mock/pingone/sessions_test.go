package pingone_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock/pingone"
)

const logout = "application/vnd.pingidentity.sso.session.logout"

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// sessionJSON is a create/update body for the seed user.
func sessionJSON(activeAt time.Time, idle, extra string) string {
	if idle != "" {
		idle = `"idleTimeoutInMinutes": ` + idle + `,`
	}
	return fmt.Sprintf(`{
		"activeAt": %q, %s %s
		"lastSignOn": {"authenticators": ["pwd"], "remoteIp": "203.0.113.7",
			"withAuthenticator": {"pwd": {"at": %q, "policy": {"id": %q, "type": "PINGONE"}}}},
		"user": {"id": %q},
		"userAgent": %q
	}`, activeAt.Format(time.RFC3339Nano), idle, extra, activeAt.Add(-time.Minute).Format(time.RFC3339Nano), policyID, userID, firefoxMac)
}

func create(t *testing.T, srv *testServer, body string) map[string]any {
	t.Helper()
	r := call(t, srv, http.MethodPost, sessionsPath, body)
	mustStatus(t, r, http.StatusCreated)
	return r.Body
}

// TestLifecycle: create → read → update → sign out → read, all reflecting
// each other.
func TestLifecycle(t *testing.T) {
	srv := start(t, pingone.Options{}, t0)
	created := create(t, srv, sessionJSON(t0, `"60"`, ""))
	id := str(created, "id")
	path := sessionsPath + "/" + id

	read := call(t, srv, http.MethodGet, path, "")
	mustStatus(t, read, http.StatusOK)
	jsonEqualMaps(t, read.Body, created)

	later := t0.Add(10 * time.Minute)
	srv.Clock().Set(later)
	up := call(t, srv, http.MethodPut, path, sessionJSON(later, "120", ""))
	mustStatus(t, up, http.StatusOK)
	checks := map[string]any{
		"id":                   id,
		"createdAt":            "2024-05-01T12:00:00.000Z",
		"activeAt":             "2024-05-01T12:10:00.000Z",
		"idleTimeoutInMinutes": float64(120),
		"expiresAt":            "2024-05-01T14:10:00.000Z",
		"lastSignOn.at":        "2024-05-01T12:09:00.000Z",
		"lastSignOn.policy.id": policyID,
		"locations.1.at":       "2024-05-01T12:09:00.000Z",
	}
	for p, want := range checks {
		if got := get(up.Body, p); got != want {
			t.Errorf("after PUT %s = %v, want %v", p, got, want)
		}
	}
	jsonEqualMaps(t, call(t, srv, http.MethodGet, path, "").Body, up.Body)

	out := call(t, srv, http.MethodPost, path, "", "Content-Type", logout)
	mustStatus(t, out, http.StatusNoContent)
	after := call(t, srv, http.MethodGet, path, "")
	mustStatus(t, after, http.StatusOK)
	if v, ok := after.Body["lastSignOn"]; !ok || v != nil {
		t.Errorf("after reset lastSignOn = %v (present %v), want null", v, ok)
	}
	if str(after.Body, "user.id") != userID || str(after.Body, "expiresAt") != "2024-05-01T14:10:00.000Z" {
		t.Errorf("reset must keep the session: %s", after.Raw)
	}
}

func jsonEqualMaps(t *testing.T, got, want map[string]any) {
	t.Helper()
	gb, _ := jsonMarshal(got)
	wb, _ := jsonMarshal(want)
	if gb != wb {
		t.Fatalf("differs\n--- got\n%s\n--- want\n%s", gb, wb)
	}
}

// TestDerivedFields: every field is computed by the server, whatever the
// request sends.
func TestDerivedFields(t *testing.T) {
	srv := start(t, pingone.Options{}, t0)
	body := `{"activeAt": "2024-05-01T11:00:00.123456Z", "idleTimeoutInMinutes": "90", "id": "not-the-id",
		"browser": {"name": "Lynx"}, "unknownField": {"x": 1}, "expiresAt": "2000-01-01T00:00:00Z",
		"user": {"id": "` + userID + `"}, "userAgent": "` + firefoxMac + `"}`
	r := create(t, srv, body)
	checks := map[string]any{
		"activeAt":                "2024-05-01T11:00:00.123Z",
		"createdAt":               "2024-05-01T12:00:00.000Z",
		"expiresAt":               "2024-05-01T12:30:00.123Z",
		"idleTimeoutInMinutes":    float64(90),
		"browser.name":            "Firefox",
		"browser.version":         "103.0",
		"operatingSystem.name":    "Mac OS X",
		"operatingSystem.version": "10.15",
		"device.type":             "Mac",
		"locations.0.at":          "2024-05-01T12:00:00.000Z", // no sign-on: now
		"locations.0.remoteIp":    "127.0.0.1",                // no sign-on: the caller
	}
	for p, want := range checks {
		if got := get(r, p); got != want {
			t.Errorf("%s = %v, want %v", p, got, want)
		}
	}
	if str(r, "id") == "not-the-id" || len(str(r, "id")) != 36 {
		t.Errorf("id %q: a sent id must be ignored", str(r, "id"))
	}
	if _, ok := r["unknownField"]; ok {
		t.Error("unknown fields must not be echoed")
	}
	if _, ok := r["token"]; ok {
		t.Error("token must never be returned")
	}
}

// TestAnonymousSession: without user.id there is no user and lastSignOn is
// null even if sent.
func TestAnonymousSession(t *testing.T) {
	srv := start(t, pingone.Options{}, t0)
	body := `{"activeAt": "2024-05-01T12:00:00Z", "userAgent": "` + firefoxMac + `",
		"lastSignOn": {"authenticators": ["pwd"], "remoteIp": "198.51.100.1", "withAuthenticator": {}}}`
	r := create(t, srv, body)
	if v, ok := r["lastSignOn"]; !ok || v != nil {
		t.Errorf("lastSignOn = %v (present %v), want null", v, ok)
	}
	if _, ok := r["user"]; ok {
		t.Error("anonymous session has a user")
	}
	if get(r, "_links.user") != nil {
		t.Error("anonymous session has a user link")
	}
	if got := get(r, "idleTimeoutInMinutes"); got != float64(43200) {
		t.Errorf("default idleTimeoutInMinutes = %v", got)
	}
	if got := str(r, "locations.0.remoteIp"); got != "127.0.0.1" {
		t.Errorf("location of an anonymous session = %q, want the caller's address", got)
	}
}

// TestUserAgents: derived from ua-parser; unknown agents degrade to Other.
func TestUserAgents(t *testing.T) {
	srv := start(t, pingone.Options{}, t0)
	tests := []struct {
		ua                               string
		browser, bver, os, osver, device string
	}{
		{firefoxMac, "Firefox", "103.0", "Mac OS X", "10.15", "Mac"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
			"Chrome", "120.0.0", "Windows", "10", "Other"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
			"Edge", "120.0.2210", "Windows", "10", "Other"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
			"Safari", "17.1", "Mac OS X", "10.15.7", "Mac"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
			"Mobile Safari", "17.1", "iOS", "17.1", "iPhone"},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.43 Mobile Safari/537.36",
			"Chrome Mobile", "120.0.6099", "Android", "14", "Pixel 8"},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
			"Firefox", "121.0", "Linux", "", "Other"},
		{"definitely not a browser", "Other", "", "Other", "", "Other"},
	}
	for _, tc := range tests {
		t.Run(tc.browser+"/"+tc.os, func(t *testing.T) {
			body := `{"activeAt": "2024-05-01T12:00:00Z", "userAgent": ` + quoteJSON(tc.ua) + `}`
			r := create(t, srv, body)
			want := map[string]string{
				"browser.name": tc.browser, "browser.version": tc.bver,
				"operatingSystem.name": tc.os, "operatingSystem.version": tc.osver,
				"device.type": tc.device,
			}
			for p, w := range want {
				if got := str(r, p); got != w {
					t.Errorf("%s = %q, want %q", p, got, w)
				}
			}
		})
	}
}

// TestLocationsCap: one location per create/update, newest last, 5 kept.
func TestLocationsCap(t *testing.T) {
	srv := start(t, pingone.Options{}, t0)
	id := str(create(t, srv, sessionJSON(t0, "", "")), "id")
	var last map[string]any
	for i := 1; i <= 6; i++ {
		at := t0.Add(time.Duration(i) * time.Hour)
		body := strings.Replace(sessionJSON(at, "", ""), "203.0.113.7", fmt.Sprintf("203.0.113.%d", 10+i), 1)
		r := call(t, srv, http.MethodPut, sessionsPath+"/"+id, body)
		mustStatus(t, r, http.StatusOK)
		last = r.Body
	}
	locs, _ := last["locations"].([]any)
	if len(locs) != 5 {
		t.Fatalf("%d locations, want 5: %v", len(locs), locs)
	}
	for i, l := range locs {
		want := fmt.Sprintf("203.0.113.%d", 12+i) // the 2nd..6th update
		if got := str(l, "remoteIp"); got != want {
			t.Errorf("locations[%d].remoteIp = %q, want %q (oldest first, newest last)", i, got, want)
		}
	}
}

// TestSessionToken: the ST cookie addresses the session on /sessions/me.
func TestSessionToken(t *testing.T) {
	srv := start(t, pingone.Options{}, t0)
	created := create(t, srv, sessionJSON(t0, "", `"token": "tok-1",`))
	id := str(created, "id")
	me := sessionsPath + "/me"
	cookie := func(tok string) []string { return []string{"Cookie", "ST=" + tok} }

	r := call(t, srv, http.MethodGet, me, "", cookie("tok-1")...)
	mustStatus(t, r, http.StatusOK)
	if str(r.Body, "id") != id {
		t.Fatalf("read by token found %q, want %q", str(r.Body, "id"), id)
	}

	// Update by ID cannot change the token, even if one is sent.
	r = call(t, srv, http.MethodPut, sessionsPath+"/"+id, sessionJSON(t0, "", `"token": "tok-by-id",`))
	mustStatus(t, r, http.StatusOK)
	errorBody(t, call(t, srv, http.MethodGet, me, "", cookie("tok-by-id")...), http.StatusNotFound, "NOT_FOUND")
	mustStatus(t, call(t, srv, http.MethodGet, me, "", cookie("tok-1")...), http.StatusOK)

	// Update by token can.
	r = call(t, srv, http.MethodPut, me, sessionJSON(t0, "", `"token": "tok-2",`), cookie("tok-1")...)
	mustStatus(t, r, http.StatusOK)
	errorBody(t, call(t, srv, http.MethodGet, me, "", cookie("tok-1")...), http.StatusNotFound, "NOT_FOUND")
	mustStatus(t, call(t, srv, http.MethodGet, me, "", cookie("tok-2")...), http.StatusOK)

	// A second live session cannot take the same token.
	r = call(t, srv, http.MethodPost, sessionsPath, sessionJSON(t0, "", `"token": "tok-2",`))
	b := errorBody(t, r, http.StatusBadRequest, "INVALID_DATA")
	if str(b, "details.0.target") != "token" || str(b, "details.0.code") != "UNIQUENESS_VIOLATION" {
		t.Errorf("duplicate token: %s", r.Raw)
	}

	// Reset by token keeps the session, signed out.
	mustStatus(t, call(t, srv, http.MethodPost, me, "", append(cookie("tok-2"), "Content-Type", logout)...), http.StatusNoContent)
	r = call(t, srv, http.MethodGet, me, "", cookie("tok-2")...)
	mustStatus(t, r, http.StatusOK)
	if r.Body["lastSignOn"] != nil {
		t.Errorf("lastSignOn after reset by token: %v", r.Body["lastSignOn"])
	}

	// Delete by token removes it everywhere.
	mustStatus(t, call(t, srv, http.MethodDelete, me, "", cookie("tok-2")...), http.StatusNoContent)
	errorBody(t, call(t, srv, http.MethodGet, me, "", cookie("tok-2")...), http.StatusNotFound, "NOT_FOUND")
	errorBody(t, call(t, srv, http.MethodGet, sessionsPath+"/"+id, ""), http.StatusNotFound, "NOT_FOUND")

	// Missing or unknown cookie: 404, like an unknown session.
	for _, op := range []struct{ method, body, ct string }{
		{http.MethodGet, "", ""},
		{http.MethodPut, sessionJSON(t0, "", ""), "application/json"},
		{http.MethodPost, "", logout},
		{http.MethodDelete, "", ""},
	} {
		errorBody(t, call(t, srv, op.method, me, op.body, "Content-Type", op.ct), http.StatusNotFound, "NOT_FOUND")
		errorBody(t, call(t, srv, op.method, me, op.body, "Content-Type", op.ct, "Cookie", "ST=nope"), http.StatusNotFound, "NOT_FOUND")
	}
}

// TestUserSessions: the users endpoint lists newest first, keeps 10 per
// user, reads and deletes one.
func TestUserSessions(t *testing.T) {
	srv := start(t, pingone.Options{}, t0)
	list := "/v1/environments/" + envID + "/users/" + userID + "/sessions"
	var ids []string
	for i := range 12 {
		srv.Clock().Set(t0.Add(time.Duration(i) * time.Second))
		ids = append(ids, str(create(t, srv, sessionJSON(t0, "", "")), "id"))
	}
	r := call(t, srv, http.MethodGet, list, "")
	mustStatus(t, r, http.StatusOK)
	got, _ := get(r.Body, "_embedded.sessions").([]any)
	if len(got) != 10 {
		t.Fatalf("%d sessions listed, want 10 (the seeded one and the 2 oldest dropped)", len(got))
	}
	for i, s := range got {
		if want := ids[11-i]; str(s, "id") != want {
			t.Errorf("sessions[%d] = %s, want %s (newest first)", i, str(s, "id"), want)
		}
		if want := srv.URL + list + "/" + str(s, "id"); str(s, "_links.self.href") != want {
			t.Errorf("self link %q, want %q", str(s, "_links.self.href"), want)
		}
	}
	if str(r.Body, "_links.self.href") != srv.URL+list {
		t.Errorf("collection self link %q", str(r.Body, "_links.self.href"))
	}
	for _, dropped := range []string{seededSessionID, ids[0], ids[1]} {
		errorBody(t, call(t, srv, http.MethodGet, sessionsPath+"/"+dropped, ""), http.StatusNotFound, "NOT_FOUND")
	}

	one := call(t, srv, http.MethodGet, list+"/"+ids[5], "")
	mustStatus(t, one, http.StatusOK)
	if str(one.Body, "id") != ids[5] {
		t.Errorf("read one: %s", one.Raw)
	}
	mustStatus(t, call(t, srv, http.MethodDelete, list+"/"+ids[5], ""), http.StatusNoContent)
	errorBody(t, call(t, srv, http.MethodGet, list+"/"+ids[5], ""), http.StatusNotFound, "NOT_FOUND")
	errorBody(t, call(t, srv, http.MethodDelete, list+"/"+ids[5], ""), http.StatusNotFound, "NOT_FOUND")
	errorBody(t, call(t, srv, http.MethodGet, sessionsPath+"/"+ids[5], ""), http.StatusNotFound, "NOT_FOUND")
	r = call(t, srv, http.MethodGet, list, "")
	if n := len(get(r.Body, "_embedded.sessions").([]any)); n != 9 {
		t.Errorf("%d sessions after delete, want 9", n)
	}
	// Another user's path does not reach this user's session.
	errorBody(t, call(t, srv, http.MethodGet, "/v1/environments/"+envID+"/users/"+otherUser+"/sessions/"+ids[6], ""), http.StatusNotFound, "NOT_FOUND")
}

// TestExpiry: once expiresAt has passed the environment endpoint no longer
// finds the session; the users endpoint still lists and reads it.
func TestExpiry(t *testing.T) {
	srv := start(t, pingone.Options{}, t0)
	created := create(t, srv, sessionJSON(t0, "5", `"token": "short",`))
	id := str(created, "id")
	if str(created, "expiresAt") != "2024-05-01T12:05:00.000Z" {
		t.Fatalf("expiresAt %s", str(created, "expiresAt"))
	}
	srv.Clock().Set(t0.Add(5 * time.Minute)) // exactly at expiresAt: still alive
	mustStatus(t, call(t, srv, http.MethodGet, sessionsPath+"/"+id, ""), http.StatusOK)

	srv.Clock().Set(t0.Add(5*time.Minute + time.Millisecond))
	envOps := []struct {
		name, method, path, body string
		hdr                      []string
	}{
		{"read", http.MethodGet, sessionsPath + "/" + id, "", nil},
		{"update", http.MethodPut, sessionsPath + "/" + id, sessionJSON(t0, "", ""), nil},
		{"reset", http.MethodPost, sessionsPath + "/" + id, "", []string{"Content-Type", logout}},
		{"read by token", http.MethodGet, sessionsPath + "/me", "", []string{"Cookie", "ST=short"}},
	}
	for _, op := range envOps {
		t.Run(op.name, func(t *testing.T) {
			errorBody(t, call(t, srv, op.method, op.path, op.body, op.hdr...), http.StatusNotFound, "NOT_FOUND")
		})
	}
	userPath := "/v1/environments/" + envID + "/users/" + userID + "/sessions"
	r := call(t, srv, http.MethodGet, userPath, "")
	mustStatus(t, r, http.StatusOK)
	if str(r.Body, "_embedded.sessions.0.id") != id {
		t.Errorf("expired session not listed first: %s", r.Raw)
	}
	mustStatus(t, call(t, srv, http.MethodGet, userPath+"/"+id, ""), http.StatusOK)

	// Its token is free again.
	create(t, srv, sessionJSON(t0.Add(time.Hour), "", `"token": "short",`))
	mustStatus(t, call(t, srv, http.MethodGet, sessionsPath+"/me", "", "Cookie", "ST=short"), http.StatusOK)
}

// TestEnvironmentIsolation: a session is invisible from any other environment.
func TestEnvironmentIsolation(t *testing.T) {
	srv := start(t, pingone.Options{}, t0)
	id := str(create(t, srv, sessionJSON(t0, "", `"token": "iso",`)), "id")
	other := "/v1/environments/" + otherEnvID
	ops := []struct {
		name, method, path, body string
		hdr                      []string
	}{
		{"read", http.MethodGet, other + "/sessions/" + id, "", nil},
		{"update", http.MethodPut, other + "/sessions/" + id, sessionJSON(t0, "", ""), nil},
		{"reset", http.MethodPost, other + "/sessions/" + id, "", []string{"Content-Type", logout}},
		{"read by token", http.MethodGet, other + "/sessions/me", "", []string{"Cookie", "ST=iso"}},
		{"delete by token", http.MethodDelete, other + "/sessions/me", "", []string{"Cookie", "ST=iso"}},
		{"read user session", http.MethodGet, other + "/users/" + userID + "/sessions/" + id, "", nil},
		{"delete user session", http.MethodDelete, other + "/users/" + userID + "/sessions/" + id, "", nil},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			errorBody(t, call(t, srv, op.method, op.path, op.body, op.hdr...), http.StatusNotFound, "NOT_FOUND")
		})
	}
	r := call(t, srv, http.MethodGet, other+"/users/"+userID+"/sessions", "")
	mustStatus(t, r, http.StatusOK)
	if n := len(get(r.Body, "_embedded.sessions").([]any)); n != 0 {
		t.Errorf("other environment lists %d sessions", n)
	}
	// The same token may be used in another environment.
	r = call(t, srv, http.MethodPost, other+"/sessions", sessionJSON(t0, "", `"token": "iso",`))
	mustStatus(t, r, http.StatusCreated)
	mustStatus(t, call(t, srv, http.MethodGet, sessionsPath+"/"+id, ""), http.StatusOK)
}

// TestKnownEnvironmentsOnly: restricted to the fixtures, unknown
// environments get 403 ACCESS_FAILED as in PingOne.
func TestKnownEnvironmentsOnly(t *testing.T) {
	srv := start(t, pingone.Options{KnownEnvironmentsOnly: true}, t0)
	other := "/v1/environments/" + otherEnvID
	errorBody(t, call(t, srv, http.MethodPost, other+"/sessions", sessionJSON(t0, "", "")), http.StatusForbidden, "ACCESS_FAILED")
	errorBody(t, call(t, srv, http.MethodGet, other+"/sessions/"+seededSessionID, ""), http.StatusForbidden, "ACCESS_FAILED")
	errorBody(t, call(t, srv, http.MethodGet, other+"/users/"+userID+"/sessions", ""), http.StatusForbidden, "ACCESS_FAILED")
	errorBody(t, call(t, srv, http.MethodGet, "/v1/environments/"+envID+"/users/"+otherUser+"/sessions", ""), http.StatusNotFound, "NOT_FOUND")
	mustStatus(t, call(t, srv, http.MethodGet, sessionsPath+"/"+seededSessionID, ""), http.StatusOK)
	r := call(t, srv, http.MethodPost, sessionsPath, strings.Replace(sessionJSON(t0, "", ""), userID, otherUser, 1))
	if b := errorBody(t, r, http.StatusBadRequest, "INVALID_DATA"); str(b, "details.0.target") != "user.id" {
		t.Errorf("unknown user: %s", r.Raw)
	}
}

func quoteJSON(s string) string { b, _ := jsonMarshal(s); return b }
