package zitadel_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idpmock/idpmock/fixtures"
	"github.com/idpmock/idpmock/mock/admin"
	"github.com/idpmock/idpmock/mock/mocktest"
	"github.com/idpmock/idpmock/mock/zitadel"
)

const wrongPassword = `{"checks":{"password":{"password":"wrong"}}}`

// zitadelState is the vendor's part of the server's state dump.
func zitadelState(t *testing.T, srv *mocktest.Server) string {
	t.Helper()
	raw, ok := srv.State(t).Vendors["zitadel"]
	if !ok {
		t.Fatal("state dump has no zitadel entry")
	}
	return string(raw)
}

func jsonEqual(t *testing.T, what, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, want)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Fatalf("%s differs:\n got %s\nwant %s", what, gb, wb)
	}
}

// A state dump loaded into a fresh server answers exactly as the original:
// sessions (terminated ones too), tokens, pending challenges, login
// counters, consumed intents and the id and sequence counters.
func TestStateRoundTrip(t *testing.T) {
	a := start(t)
	a.Clock().Freeze()

	full, firstTok := createMini(t, a, `,"metadata":{"k":"AQID"},"userAgent":{"fingerprintId":"fp1","ip":"203.0.113.7","header":{"User-Agent":{"values":["x"]}}},"lifetime":"3600s"`)
	a.Advance(time.Second)
	r := call(t, a, http.MethodPatch, "/v2/sessions/"+full, `{"checks":{"password":{"password":"Password1!"},"recoveryCode":{"code":"R3C0-V3RY-0001"},"idpIntent":{"idpIntentId":"280310400000000001","idpIntentToken":"intent-token-mini"}}}`)
	wantStatus(t, r, http.StatusOK)
	fullTok := str(r.body, "sessionToken")

	a.Advance(time.Second)
	r = call(t, a, http.MethodPost, "/v2/sessions", `{"checks":{"user":{"loginName":"mini@mouse.com"}},"challenges":{"otpSms":{"returnCode":true}}}`)
	wantStatus(t, r, http.StatusCreated)
	pending, otp := str(r.body, "sessionId"), str(r.body, "challenges.otpSms")

	gone, goneTok := createMini(t, a, "")
	wantStatus(t, call(t, a, http.MethodDelete, "/v2/sessions/"+gone, `{"sessionToken":"`+goneTok+`"}`), http.StatusOK)

	r = call(t, a, http.MethodPost, "/v2/sessions", `{"checks":{"user":{"loginName":"mickey@mouse.com"}}}`)
	wantStatus(t, r, http.StatusCreated)
	mickey := str(r.body, "sessionId")
	for range 2 {
		wantStatus(t, call(t, a, http.MethodPatch, "/v2/sessions/"+mickey, wrongPassword), http.StatusBadRequest)
	}
	anon := str(call(t, a, http.MethodPost, "/v2/sessions", `{}`).body, "sessionId")

	st := a.State(t)
	b := start(t)
	b.LoadState(t, st)

	if !b.Clock().Now().Equal(a.Clock().Now()) {
		t.Fatalf("clock %v, want %v", b.Clock().Now(), a.Clock().Now())
	}
	jsonEqual(t, "state after restore", zitadelState(t, b), string(st.Vendors["zitadel"]))

	reads := []struct{ name, method, path, body string }{
		{"get full", http.MethodGet, "/v2/sessions/" + full, ""},
		{"get pending", http.MethodGet, "/v2/sessions/" + pending, ""},
		{"get anonymous", http.MethodGet, "/v2/sessions/" + anon, ""},
		{"get terminated", http.MethodGet, "/v2/sessions/" + gone, ""},
		{"get with token", http.MethodGet, "/v2/sessions/" + full + "?sessionToken=" + fullTok, ""},
		{"get with stale token", http.MethodGet, "/v2/sessions/" + full + "?sessionToken=" + firstTok, ""},
		{"connect get", http.MethodPost, connectSv + "GetSession", `{"sessionId":"` + full + `","sessionToken":"` + fullTok + `"}`},
		{"list", http.MethodPost, "/v2/sessions/search", `{}`},
		{"list by user asc", http.MethodPost, "/v2/sessions/search", `{"query":{"asc":true},"queries":[{"userIdQuery":{"id":"` + miniID + `"}}]}`},
		{"connect list", http.MethodPost, connectSv + "ListSessions", `{"queries":[{"idsQuery":{"ids":["` + full + `","` + mickey + `"]}}]}`},
	}
	for _, tc := range reads {
		t.Run(tc.name, func(t *testing.T) {
			ra, rb := call(t, a, tc.method, tc.path, tc.body), call(t, b, tc.method, tc.path, tc.body)
			if ra.status != rb.status || ra.raw != rb.raw {
				t.Fatalf("restored server answers differently:\n got %d %s\nwant %d %s", rb.status, rb.raw, ra.status, ra.raw)
			}
		})
	}
	if g := call(t, b, http.MethodGet, "/v2/sessions/"+full, ""); str(g.body, "session.metadata.k") != "AQID" || !has(g.body, "session.factors.intent") || !has(g.body, "session.expirationDate") {
		t.Fatalf("restored session lost data: %s", g.raw)
	}

	// Both servers go on identically; each step runs on a, then on b.
	steps := []struct {
		name, method, path, body string
		status                   int
		same                     bool // the bodies match too (no new token in them)
		want                     string
	}{
		{"mickey's failures go on counting", http.MethodPatch, "/v2/sessions/" + mickey, wrongPassword, 400, true, `"failedAttempts":3`},
		{"the used recovery code stays used", http.MethodPatch, "/v2/sessions/" + full, `{"checks":{"recoveryCode":{"code":"R3C0-V3RY-0001"}}}`, 400, true, "DOMAIN-6uvh0"},
		{"the consumed intent stays consumed", http.MethodPatch, "/v2/sessions/" + full, `{"checks":{"idpIntent":{"idpIntentId":"280310400000000001","idpIntentToken":"intent-token-mini"}}}`, 400, true, "COMMAND-Df4bw"},
		{"the pending OTP code works", http.MethodPatch, "/v2/sessions/" + pending, `{"checks":{"otpSms":{"code":"` + otp + `"}}}`, 200, false, `"sessionToken"`},
		{"the terminated session deletes again", http.MethodDelete, "/v2/sessions/" + gone, `{"sessionToken":"` + goneTok + `"}`, 200, true, `"sequence"`},
		{"the stale token cannot delete", http.MethodDelete, "/v2/sessions/" + full, `{"sessionToken":"` + firstTok + `"}`, 403, true, "COMMAND-sGr42"},
		{"the current token deletes", http.MethodDelete, "/v2/sessions/" + full, `{"sessionToken":"` + fullTok + `"}`, 200, true, `"changeDate"`},
	}
	for _, tc := range steps {
		t.Run(tc.name, func(t *testing.T) {
			ra, rb := call(t, a, tc.method, tc.path, tc.body), call(t, b, tc.method, tc.path, tc.body)
			wantStatus(t, ra, tc.status)
			wantStatus(t, rb, tc.status)
			if !strings.Contains(rb.raw, tc.want) {
				t.Fatalf("answer lacks %s: %s", tc.want, rb.raw)
			}
			if tc.same && ra.raw != rb.raw {
				t.Fatalf("restored server answers differently:\n got %s\nwant %s", rb.raw, ra.raw)
			}
		})
	}

	// New ids continue past the restored ones, though the clock is the same.
	restored := []string{full, pending, gone, mickey, anon}
	id := str(call(t, b, http.MethodPost, "/v2/sessions", `{}`).body, "sessionId")
	for _, old := range restored {
		if len(id) < len(old) || (len(id) == len(old) && id <= old) {
			t.Fatalf("new id %s is not after restored id %s", id, old)
		}
	}
}

// A state document that is invalid in any way is refused and changes
// nothing.
func TestRestoreStateRejected(t *testing.T) {
	srv := start(t)
	srv.Clock().Freeze() // the list's details.timestamp stays put
	id, tok := createMini(t, srv, "")
	wantStatus(t, call(t, srv, http.MethodPatch, "/v2/sessions/"+id, wrongPassword), http.StatusBadRequest)
	before := zitadelState(t, srv)
	beforeList := call(t, srv, http.MethodPost, "/v2/sessions/search", `{}`).raw

	const ts = `"creationDate":"2025-01-01T00:00:00Z","changeDate":"2025-01-01T00:00:00Z"`
	sess := func(id, extra string) string {
		return `{"id":"` + id + `",` + ts + `,"sequence":"2","token":"tok"` + extra + `}`
	}
	tests := []struct{ name, doc, want string }{
		{"not an object", `[]`, "/"},
		{"sessions missing", `{}`, "sessions"},
		{"unknown member", `{"sessions":[],"extra":1}`, "extra"},
		{"session without token", `{"sessions":[{"id":"1",` + ts + `,"sequence":"1"}]}`, "/sessions/0"},
		{"sequence not a uint64 string", `{"sessions":[` + strings.Replace(sess("1", ""), `"2"`, `2`, 1) + `]}`, "/sessions/0/sequence"},
		{"bad time", `{"sessions":[` + strings.Replace(sess("1", ""), "2025-01-01T00:00:00Z", "yesterday", 1) + `]}`, "/sessions/0/creationDate"},
		{"metadata not base64", `{"sessions":[` + sess("1", `,"metadata":{"k":"!!"}`) + `]}`, "/sessions/0/metadata/k"},
		{"duplicate session", `{"sessions":[` + sess("1", "") + `,` + sess("1", "") + `]}`, "/sessions/1/id"},
		{"changed before created", `{"sessions":[` + strings.Replace(sess("1", ""), `"changeDate":"2025-01-01T00:00:00Z"`, `"changeDate":"2024-01-01T00:00:00Z"`, 1) + `]}`, "/sessions/0/changeDate"},
		{"challenge without user", `{"sessions":[` + sess("1", `,"challenges":{"otpSms":{"code":"1","expiresAt":"2025-01-01T00:05:00Z"}}`) + `]}`, "/sessions/0/challenges"},
		{"factors without user", `{"sessions":[` + sess("1", `,"factors":{"password":{"verifiedAt":"2025-01-01T00:00:00Z"}}`) + `]}`, "/sessions/0/factors"},
		{"unknown user", `{"sessions":[],"users":[{"id":"nobody","passwordFailures":1}]}`, "/users/0/id"},
		{"user twice", `{"sessions":[],"users":[{"id":"` + miniID + `"},{"id":"` + miniID + `"}]}`, "/users/1/id"},
		{"recovery code not the user's", `{"sessions":[],"users":[{"id":"` + miniID + `","usedRecoveryCodes":["R3C0-V3RY-0001","nope"]}]}`, "/users/0/usedRecoveryCodes/1"},
		{"unknown intent", `{"sessions":[],"consumedIntents":["280310400000000001","nope"]}`, "nope"},
		{"lastId not a number", `{"sessions":[],"lastId":"12x"}`, "/lastId"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := srv.Mock.LoadState(context.Background(), admin.State{Vendors: map[string]json.RawMessage{"zitadel": json.RawMessage(tc.doc)}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %s", err, tc.want)
			}
			jsonEqual(t, "state after a refused load", zitadelState(t, srv), before)
			if got := call(t, srv, http.MethodPost, "/v2/sessions/search", `{}`).raw; got != beforeList {
				t.Fatalf("sessions changed:\n got %s\nwant %s", got, beforeList)
			}
			wantStatus(t, call(t, srv, http.MethodGet, "/v2/sessions/"+id+"?sessionToken="+tok, ""), http.StatusOK)
		})
	}
}

// The admin API drives the snapshot end to end: GET /__mock/state, reset,
// PUT the document back, and a refused PUT answers 400 keeping the state.
func TestAdminState(t *testing.T) {
	srv := start(t)
	r := call(t, srv, http.MethodPost, "/v2/sessions", `{"checks":{"user":{"loginName":"mini@mouse.com"},"password":{"password":"Password1!"}}}`)
	wantStatus(t, r, http.StatusCreated)
	id, tok := str(r.body, "sessionId"), str(r.body, "sessionToken")
	want := call(t, srv, http.MethodGet, "/v2/sessions/"+id, "")
	wantStatus(t, want, http.StatusOK)

	dump := call(t, srv, http.MethodGet, "/__mock/state", "")
	wantStatus(t, dump, http.StatusOK)
	if n := len(get(dump.body, "vendors.zitadel.sessions").([]any)); n != 1 {
		t.Fatalf("%d sessions in the dump, want 1: %s", n, dump.raw)
	}
	wantStatus(t, call(t, srv, http.MethodPost, "/__mock/reset", ""), http.StatusNoContent)
	wantStatus(t, call(t, srv, http.MethodGet, "/v2/sessions/"+id, ""), http.StatusNotFound)

	wantStatus(t, call(t, srv, http.MethodPut, "/__mock/state", dump.raw), http.StatusNoContent)
	got := call(t, srv, http.MethodGet, "/v2/sessions/"+id+"?sessionToken="+tok, "")
	if got.status != http.StatusOK || got.raw != want.raw {
		t.Fatalf("after PUT /__mock/state:\n got %d %s\nwant %s", got.status, got.raw, want.raw)
	}

	bad := call(t, srv, http.MethodPut, "/__mock/state", `{"vendors":{"zitadel":{"sessions":[{"id":"x"}]}}}`)
	wantStatus(t, bad, http.StatusBadRequest)
	if !strings.Contains(bad.raw, "/sessions/0") {
		t.Fatalf("refusal does not say where: %s", bad.raw)
	}
	wantStatus(t, call(t, srv, http.MethodGet, "/v2/sessions/"+id+"?sessionToken="+tok, ""), http.StatusOK)
}

// copyFixtures copies the embedded fixtures to a directory a test may edit.
func copyFixtures(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, fixtures.Data); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeFile(t *testing.T, file, content string) {
	t.Helper()
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// reload runs POST /__mock/reload and returns the errors it reports.
func reload(t *testing.T, srv *mocktest.Server) []string {
	t.Helper()
	r := call(t, srv, http.MethodPost, "/__mock/reload", "")
	wantStatus(t, r, http.StatusOK)
	var rep struct{ Reloaded, Errors []string }
	if err := json.Unmarshal([]byte(r.raw), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) == 0 && !slices.Contains(rep.Reloaded, "zitadel") {
		t.Fatalf("zitadel neither reloaded nor failed: %s", r.raw)
	}
	return rep.Errors
}

// Reloading edited fixtures replaces users, intents and settings while
// sessions and login counters stay; a broken edit keeps the previous data.
func TestReload(t *testing.T) {
	dir := copyFixtures(t)
	usersFile := filepath.Join(dir, "zitadel", "users.json")
	srv := mocktest.Start(t, mocktest.WithVendors(zitadel.New), mocktest.WithFixtures(os.DirFS(dir)))

	id, _ := createMini(t, srv, "")
	r := call(t, srv, http.MethodPatch, "/v2/sessions/"+id, `{"checks":{"password":{"password":"Password1!"},"idpIntent":{"idpIntentId":"280310400000000001","idpIntentToken":"intent-token-mini"}}}`)
	wantStatus(t, r, http.StatusOK)
	tok := str(r.body, "sessionToken")
	wantError(t, call(t, srv, http.MethodPatch, "/v2/sessions/"+id, wrongPassword), 400, 3, "COMMAND-3M0fs")
	const minnie = `{"checks":{"user":{"loginName":"minnie@mouse.com"},"password":{"password":"Minnie1!"}}}`
	wantError(t, call(t, srv, http.MethodPost, "/v2/sessions", minnie), 404, 5, "QUERY-Dfbg2")

	raw, err := os.ReadFile(usersFile)
	if err != nil {
		t.Fatal(err)
	}
	var users []map[string]any
	if err := json.Unmarshal(raw, &users); err != nil {
		t.Fatal(err)
	}
	users[0]["displayName"] = "Mini Mouse II"
	users = append(users, map[string]any{
		"id": "280310260781907999", "organizationId": "280310220617252866", "loginNames": []string{"minnie@mouse.com"},
		"displayName": "Minnie Mouse", "state": "active", "password": "Minnie1!",
	})
	edited, _ := json.Marshal(users)
	writeFile(t, usersFile, string(edited))
	if errs := reload(t, srv); len(errs) > 0 {
		t.Fatalf("reload failed: %v", errs)
	}

	// kept is what a good reload left, checked again after each bad one.
	kept := func(t *testing.T) {
		t.Helper()
		g := call(t, srv, http.MethodGet, "/v2/sessions/"+id+"?sessionToken="+tok, "")
		wantStatus(t, g, http.StatusOK)
		if str(g.body, "session.factors.user.displayName") != "Mini Mouse II" || !has(g.body, "session.factors.password") {
			t.Fatalf("session after reload: %s", g.raw)
		}
		wantStatus(t, call(t, srv, http.MethodPost, "/v2/sessions", minnie), http.StatusCreated)
	}
	kept(t)
	r = call(t, srv, http.MethodPatch, "/v2/sessions/"+id, wrongPassword)
	if n, _ := get(r.body, "details.0.failedAttempts").(float64); n != 2 {
		t.Fatalf("failed attempts not carried over the reload: %s", r.raw)
	}
	other, _ := createMini(t, srv, "")
	wantError(t, call(t, srv, http.MethodPatch, "/v2/sessions/"+other, `{"checks":{"idpIntent":{"idpIntentId":"280310400000000001","idpIntentToken":"intent-token-mini"}}}`), 400, 9, "COMMAND-Df4bw")

	bad := []struct{ name, file, content, want string }{
		{"users schema", "users.json", `[{"id":"1"}]`, "users.json"},
		{"users not JSON", "users.json", `[{`, "users.json"},
		{"user in an unknown org", "users.json", strings.Replace(string(edited), `"organizationId":"280310220617252866"`, `"organizationId":"nope"`, 1), "not in orgs.json"},
		{"login name twice", "users.json", strings.Replace(string(edited), `minnie@mouse.com`, `mickey@mouse.com`, 1), "mickey@mouse.com"},
		{"user twice", "users.json", strings.Replace(string(edited), `280310260781907999`, `280310260781907970`, 1), "appears twice"},
		{"intent twice", "intents.json", `[{"id":"1","token":"t","state":"started","idpId":"i","idpUserId":"u"},{"id":"1","token":"t","state":"started","idpId":"i","idpUserId":"u"}]`, "intents.json"},
		{"bad otp expiry", "instance.json", `{"id":"1","otp":{"expiry":"soon"}}`, "instance.json"},
		{"orgs missing", "orgs.json", "", "orgs.json"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, "zitadel", tc.file)
			good, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { writeFile(t, file, string(good)) })
			if tc.content == "" {
				if err := os.Remove(file); err != nil {
					t.Fatal(err)
				}
			} else {
				writeFile(t, file, tc.content)
			}
			errs := reload(t, srv)
			if len(errs) != 1 || !strings.Contains(errs[0], "zitadel") || !strings.Contains(errs[0], tc.want) {
				t.Fatalf("reload errors %q, want one naming %s", errs, tc.want)
			}
			kept(t)
		})
	}
	if errs := reload(t, srv); len(errs) > 0 {
		t.Fatalf("reload of the restored files failed: %v", errs)
	}
	kept(t)
}
