package pingone_test

import (
	"context"
	"net/http"
	"testing"
	"testing/fstest"
	"time"

	"github.com/idpmock/idpmock/mock/pingone"
)

// TestStateRoundTrip: a state dump restores every session as it was,
// tokens and sign-outs included.
func TestStateRoundTrip(t *testing.T) {
	srv := start(t, pingone.Options{}, t0)
	ctx := context.Background()
	a := str(create(t, srv, sessionJSON(t0, "30", `"token": "tok-a",`)), "id")
	b := str(create(t, srv, sessionJSON(t0, "", "")), "id")
	mustStatus(t, call(t, srv, http.MethodPost, sessionsPath+"/"+b, "", "Content-Type", logout), http.StatusNoContent)
	before := map[string]response{}
	for _, id := range []string{a, b, seededSessionID} {
		before[id] = call(t, srv, http.MethodGet, sessionsPath+"/"+id, "")
	}

	st, err := srv.Mock.DumpState(ctx)
	must(t, err)
	reseed(t, srv)
	errorBody(t, call(t, srv, http.MethodGet, sessionsPath+"/"+a, ""), http.StatusNotFound, "NOT_FOUND")
	must(t, srv.Mock.LoadState(ctx, st))

	for id, want := range before {
		got := call(t, srv, http.MethodGet, sessionsPath+"/"+id, "")
		mustStatus(t, got, http.StatusOK)
		jsonEqual(t, got.Raw, string(want.Raw))
	}
	mustStatus(t, call(t, srv, http.MethodGet, sessionsPath+"/me", "", "Cookie", "ST=tok-a"), http.StatusOK)

	// Restored lifetimes still run on the server clock.
	srv.Clock().Advance(31 * time.Minute)
	errorBody(t, call(t, srv, http.MethodGet, sessionsPath+"/"+a, ""), http.StatusNotFound, "NOT_FOUND")
}

// TestFixtureErrors: a broken seed file is reported with file and field.
func TestFixtureErrors(t *testing.T) {
	env := `{"environments": [{"id": "` + envID + `", "name": "e", "users": [{"id": "` + userID + `", "username": "u"}]}]}`
	tests := []struct {
		name, sessions, want string
	}{
		{"schema", `{"sessions": [{"id": "x", "environment": {"id": "` + envID + `"}, "userAgent": "ua"}]}`, "/sessions/0/id"},
		{"unknown environment", `{"sessions": [{"id": "` + unknownID + `", "environment": {"id": "` + otherEnvID + `"}, "userAgent": "ua"}]}`, "/sessions/0/environment/id"},
		{"unknown user", `{"sessions": [{"id": "` + unknownID + `", "environment": {"id": "` + envID + `"}, "user": {"id": "` + otherUser + `"}, "userAgent": "ua"}]}`, "/sessions/0/user/id"},
	}
	srv := start(t, pingone.Options{}, t0)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{
				"pingone/environments.json": {Data: []byte(env)},
				"pingone/sessions.json":     {Data: []byte(tc.sessions)},
			}
			v, err := pingone.New(srvDeps(srv), pingone.Options{})
			must(t, err)
			err = v.Reset(context.Background(), fsys)
			if err == nil || !contains(err.Error(), "sessions.json") || !contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming sessions.json and %s", err, tc.want)
			}
		})
	}
}
