package zitadel_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock/admin"
	"github.com/idpmock/idpmock/mock/mocktest"
)

// face sends one of the five RPCs over REST or Connect JSON.
type face struct {
	name string
	// do sends rpc for session id with body (the request's other fields,
	// a JSON object's members without braces, "" for none).
	do func(t *testing.T, srv *mocktest.Server, rpc, id, members string) reply
}

var faces = []face{
	{"REST", func(t *testing.T, srv *mocktest.Server, rpc, id, members string) reply {
		body := "{" + members + "}"
		switch rpc {
		case "CreateSession":
			return call(t, srv, http.MethodPost, "/v2/sessions", body)
		case "SetSession":
			return call(t, srv, http.MethodPatch, "/v2/sessions/"+id, body)
		case "DeleteSession":
			return call(t, srv, http.MethodDelete, "/v2/sessions/"+id, body)
		case "GetSession":
			return call(t, srv, http.MethodGet, "/v2/sessions/"+id, "")
		}
		return call(t, srv, http.MethodPost, "/v2/sessions/search", body)
	}},
	{"Connect", func(t *testing.T, srv *mocktest.Server, rpc, id, members string) reply {
		var parts []string
		if id != "" {
			parts = append(parts, `"sessionId":"`+id+`"`)
		}
		if members != "" {
			parts = append(parts, members)
		}
		return call(t, srv, http.MethodPost, connectSv+rpc, "{"+strings.Join(parts, ",")+"}")
	}},
}

// Write responses carry exactly the details ZITADEL's session commands
// fill: sequence, changeDate and resourceOwner, never a creationDate; a
// no-op SetSession mints no token and reports the last change; deleting an
// unknown session reports only the resource owner.
func TestWriteDetails(t *testing.T) {
	for _, f := range faces {
		t.Run(f.name, func(t *testing.T) {
			srv := start(t)
			srv.Clock().Freeze()
			srv.Clock().Set(time.Date(2025, 3, 5, 21, 29, 22, 262_123_456, time.UTC))
			later := "2025-03-05T21:30:22.262123Z"

			r := f.do(t, srv, "CreateSession", "", `"checks":{"user":{"loginName":"mini@mouse.com"}}`)
			id, token := str(r.body, "sessionId"), str(r.body, "sessionToken")
			if id == "" || token == "" {
				t.Fatalf("create: %s", r.raw)
			}
			srv.Advance(time.Minute)

			cases := []struct {
				name, rpc, id, members string
				want                   string // the details object, exactly
				token                  bool   // a sessionToken is in the answer
			}{
				{"create", "CreateSession", "", `"metadata":{"k":"AQ=="}`, `{"sequence":"3","changeDate":"` + later + `","resourceOwner":"` + instance + `"}`, true},
				{"set that changes", "SetSession", id, `"metadata":{"k":"Ag=="}`, `{"sequence":"5","changeDate":"` + later + `","resourceOwner":"` + instance + `"}`, true},
				{"set that changes nothing", "SetSession", id, `"sessionToken":"` + token + `","metadata":{"k":"Ag=="}`, `{"sequence":"5","changeDate":"` + later + `","resourceOwner":"` + instance + `"}`, false},
				{"empty set, deprecated token sent", "SetSession", id, `"sessionToken":"not-minted-here"`, `{"sequence":"5","changeDate":"` + later + `","resourceOwner":"` + instance + `"}`, false},
				{"delete", "DeleteSession", id, "", `{"sequence":"6","changeDate":"` + later + `","resourceOwner":"` + instance + `"}`, false},
				{"delete again", "DeleteSession", id, "", `{"sequence":"6","changeDate":"` + later + `","resourceOwner":"` + instance + `"}`, false},
				{"delete unknown", "DeleteSession", "123", "", `{"resourceOwner":"` + instance + `"}`, false},
			}
			for _, tc := range cases {
				r := f.do(t, srv, tc.rpc, tc.id, tc.members)
				status := http.StatusOK
				if f.name == "REST" && tc.rpc == "CreateSession" {
					status = http.StatusCreated
				}
				wantStatus(t, r, status)
				details, _ := json.Marshal(r.body["details"])
				jsonEqual(t, tc.name+" details", string(details), tc.want)
				if got := has(r.body, "sessionToken"); got != tc.token {
					t.Fatalf("%s: sessionToken present %v, want %v: %s", tc.name, got, tc.token, r.raw)
				}
			}
			r = f.do(t, srv, "GetSession", id, "")
			wantStatus(t, r, http.StatusNotFound)
			r = f.do(t, srv, "ListSessions", "", "")
			if str(r.body, "sessions.0.creationDate") != later || str(r.body, "details.timestamp") != later {
				t.Fatalf("list: %s", r.raw)
			}
		})
	}
}

// Every timestamp handed out has microsecond precision, as PostgreSQL
// stores event times, whatever the clock's nanoseconds.
func TestMicrosecondTimestamps(t *testing.T) {
	srv := start(t)
	srv.Clock().Freeze()
	srv.Clock().Set(time.Date(2025, 3, 5, 21, 29, 22, 262_123_456, time.UTC))
	id, _ := createMini(t, srv, `,"lifetime":"1.000000999s","challenges":{"otpSms":{"returnCode":true}}`)
	srv.Advance(time.Nanosecond * 333)
	r := call(t, srv, http.MethodPatch, "/v2/sessions/"+id, `{"checks":{"password":{"password":"Password1!"}}}`)
	wantStatus(t, r, http.StatusOK)
	g := call(t, srv, http.MethodGet, "/v2/sessions/"+id, "")
	l := call(t, srv, http.MethodPost, "/v2/sessions/search", `{}`)
	state := zitadelState(t, srv)

	const at = "2025-03-05T21:29:22.262123Z"
	want := map[string]string{
		"set details.changeDate":              str(r.body, "details.changeDate"),
		"session.creationDate":                str(g.body, "session.creationDate"),
		"session.changeDate":                  str(g.body, "session.changeDate"),
		"session.factors.user.verifiedAt":     str(g.body, "session.factors.user.verifiedAt"),
		"session.factors.password.verifiedAt": str(g.body, "session.factors.password.verifiedAt"),
		"list details.timestamp":              str(l.body, "details.timestamp"),
	}
	for k, v := range want {
		if v != at {
			t.Errorf("%s = %q, want %s", k, v, at)
		}
	}
	// created_at + lifetime, cut to microseconds.
	if got := str(g.body, "session.expirationDate"); got != "2025-03-05T21:29:23.262123Z" {
		t.Errorf("expirationDate = %q", got)
	}
	// The snapshot holds the same instants, and nothing finer.
	if regexp.MustCompile(`\.\d{7,9}Z`).MatchString(state) {
		t.Errorf("state snapshot has sub-microsecond times: %s", state)
	}
	if !strings.Contains(state, `"creationDate":"`+at+`"`) {
		t.Errorf("state snapshot creationDate: %s", state)
	}
}

// A snapshot written with nanoseconds (by hand or by an older mock) is
// read back in microseconds, so a restored session answers like a new one.
func TestRestoreTruncatesTimes(t *testing.T) {
	srv := start(t)
	doc := `{"sessions":[{"id":"1","creationDate":"2025-01-01T00:00:00.123456789Z","changeDate":"2025-01-01T00:00:01.999999999Z",` +
		`"sequence":"2","token":"tok","expirationDate":"2999-01-01T00:00:00.000000001Z",` +
		`"factors":{"user":{"id":"` + miniID + `","organizationId":"o","verifiedAt":"2025-01-01T00:00:00.123456789Z"}}}],"processedSequence":"42"}`
	restore(t, srv, doc)
	g := call(t, srv, http.MethodGet, "/v2/sessions/1", "")
	for p, want := range map[string]string{
		"session.creationDate":            "2025-01-01T00:00:00.123456Z",
		"session.changeDate":              "2025-01-01T00:00:01.999999Z",
		"session.expirationDate":          "2999-01-01T00:00:00Z",
		"session.factors.user.verifiedAt": "2025-01-01T00:00:00.123456Z",
	} {
		if got := str(g.body, p); got != want {
			t.Errorf("%s = %q, want %s", p, got, want)
		}
	}
	// The list's timestamp is the restored sessions' last change.
	l := call(t, srv, http.MethodPost, "/v2/sessions/search", `{}`)
	if got := str(l.body, "details.timestamp"); got != "2025-01-01T00:00:01.999999Z" || has(l.body, "details.processedSequence") {
		t.Errorf("list details after restore: %s", l.raw)
	}
	if state := zitadelState(t, srv); strings.Contains(state, "processedSequence") || strings.Contains(state, ".123456789") {
		t.Errorf("snapshot after restore: %s", state)
	}
}

func restore(t *testing.T, srv *mocktest.Server, doc string) {
	t.Helper()
	if err := srv.Mock.LoadState(context.Background(), admin.State{Vendors: map[string]json.RawMessage{"zitadel": json.RawMessage(doc)}}); err != nil {
		t.Fatal(err)
	}
}

// SetSession on an id that was never created: ZITADEL does not look the
// session up, it pushes whatever the request produces onto that id. The
// result is invisible to GetSession and ListSessions, yet a later Set sees
// the checked user and Delete answers with its details without terminating.
func TestSetUnknownSession(t *testing.T) {
	for _, f := range faces {
		t.Run(f.name, func(t *testing.T) {
			srv := start(t)
			srv.Clock().Freeze()
			srv.Clock().Set(time.Date(2025, 3, 5, 21, 29, 22, 262_123_456, time.UTC))
			at := "2025-03-05T21:29:22.262123Z"
			ghost := "999"

			steps := []struct {
				name, rpc, members string
				status             int
				want               string // details, exactly; "" for an error
				token              bool
			}{
				{"set nothing", "SetSession", "", 200, `{"resourceOwner":"` + instance + `"}`, false},
				{"get", "GetSession", "", 404, "", false},
				{"set a user", "SetSession", `"checks":{"user":{"loginName":"mini@mouse.com"}}`, 200, `{"sequence":"2","changeDate":"` + at + `","resourceOwner":"` + instance + `"}`, true},
				{"get after", "GetSession", "", 404, "", false},
				{"set the password of that user", "SetSession", `"checks":{"password":{"password":"Password1!"}}`, 200, `{"sequence":"4","changeDate":"` + at + `","resourceOwner":"` + instance + `"}`, true},
				{"delete with a wrong token", "DeleteSession", `"sessionToken":"wrong"`, 403, "", false},
				{"delete", "DeleteSession", "", 200, `{"sequence":"4","changeDate":"` + at + `","resourceOwner":"` + instance + `"}`, false},
				{"delete again: nothing was terminated", "DeleteSession", "", 200, `{"sequence":"4","changeDate":"` + at + `","resourceOwner":"` + instance + `"}`, false},
				{"set still works", "SetSession", `"metadata":{"k":"AQ=="}`, 200, `{"sequence":"6","changeDate":"` + at + `","resourceOwner":"` + instance + `"}`, true},
			}
			for _, st := range steps {
				r := f.do(t, srv, st.rpc, ghost, st.members)
				wantStatus(t, r, st.status)
				if st.want == "" {
					continue
				}
				details, _ := json.Marshal(r.body["details"])
				jsonEqual(t, st.name+" details", string(details), st.want)
				if got := has(r.body, "sessionToken"); got != st.token {
					t.Fatalf("%s: sessionToken present %v, want %v: %s", st.name, got, st.token, r.raw)
				}
			}
			r := f.do(t, srv, "ListSessions", "", "")
			if has(r.body, "sessions") || str(r.body, "details.timestamp") != "0001-01-01T00:00:00Z" {
				t.Fatalf("a ghost is listed or moved the projection: %s", r.raw)
			}
			// It survives a snapshot round trip, still invisible.
			state := zitadelState(t, srv)
			if !strings.Contains(state, `"ghost":true`) {
				t.Fatalf("snapshot: %s", state)
			}
			restore(t, srv, state)
			wantStatus(t, f.do(t, srv, "GetSession", ghost, ""), 404)
			r = f.do(t, srv, "DeleteSession", ghost, "")
			if str(r.body, "details.sequence") != "6" {
				t.Fatalf("delete after restore: %s", r.raw)
			}
		})
	}
}

// A client may set a ghost at an id the generator would hand out later;
// creating then skips it instead of failing.
func TestCreateSkipsGhostID(t *testing.T) {
	srv := start(t)
	srv.Clock().Freeze()
	id, _ := createMini(t, srv, "")
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	next := strconv.FormatUint(n+1, 10)
	wantStatus(t, call(t, srv, http.MethodPatch, "/v2/sessions/"+next, `{"metadata":{"k":"AQ=="}}`), http.StatusOK)
	created, _ := createMini(t, srv, "")
	if created == next || created == id {
		t.Fatalf("new session %s reuses an id (%s, %s)", created, id, next)
	}
	wantStatus(t, call(t, srv, http.MethodGet, "/v2/sessions/"+created, ""), http.StatusOK)
}
