package pingone_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock/pingone"
)

// TestSeedExamples sends each documentation example request, placeholders
// filled, and expects the documented status and the documented response,
// value for value (only the IDs and times the server picks differ).
func TestSeedExamples(t *testing.T) {
	const docBase = "https://api.pingone.com/v1"
	tests := []struct {
		name     string
		now      string // server clock
		method   string
		path     string
		request  string // testdata file, "" for no body
		activeAt string
		header   []string
		status   int
		response string // testdata file, "" for no body
	}{
		{
			name:     "000 update session by ID",
			now:      "2022-10-04T17:12:20Z",
			method:   http.MethodPut,
			path:     sessionsPath + "/" + seededSessionID,
			request:  "update_session_request.json",
			activeAt: "2022-10-04T17:12:19.890Z",
			status:   http.StatusOK,
			response: "update_session_response.json",
		},
		{
			name:     "001 create session",
			now:      "2022-10-03T17:06:43.071Z",
			method:   http.MethodPost,
			path:     sessionsPath,
			request:  "create_session_request.json",
			activeAt: "2022-08-17T01:21:30.117Z",
			status:   http.StatusCreated,
			response: "create_session_response.json",
		},
		{
			name:   "002 reset authentication session by ID",
			now:    "2022-10-04T17:12:20Z",
			method: http.MethodPost,
			path:   sessionsPath + "/" + seededSessionID,
			header: []string{"Content-Type", "application/vnd.pingidentity.sso.session.logout"},
			status: http.StatusNoContent,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := start(t, pingone.Options{BaseURL: docBase}, mustTime(t, tc.now))
			body := ""
			if tc.request != "" {
				body = fill(readFile(t, tc.request), tc.activeAt, "a-caller-chosen-token")
			}
			r := call(t, srv, tc.method, tc.path, body, tc.header...)
			mustStatus(t, r, tc.status)
			if tc.response == "" {
				if len(r.Raw) != 0 {
					t.Fatalf("want an empty body, got %s", r.Raw)
				}
				return
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			want := readFile(t, tc.response)
			if tc.method == http.MethodPost { // the server picks the new session's ID
				want = strings.ReplaceAll(want, "48650856-2bab-4436-856b-2e6e6e6ae3f9", str(r.Body, "id"))
			}
			jsonEqual(t, r.Raw, want)
		})
	}
}

// TestSeedExamplesDefaultLinks: without a configured base, links point at
// the mock itself, so a client can follow them.
func TestSeedExamplesDefaultLinks(t *testing.T) {
	srv := start(t, pingone.Options{}, time.Date(2022, 10, 4, 17, 12, 20, 0, time.UTC))
	r := call(t, srv, http.MethodPut, sessionsPath+"/"+seededSessionID,
		fill(readFile(t, "update_session_request.json"), "2022-10-04T17:12:19.890Z", ""))
	mustStatus(t, r, http.StatusOK)
	want := map[string]string{
		"_links.self.href":        srv.URL + "/v1/environments/" + envID + "/sessions/" + seededSessionID,
		"_links.environment.href": srv.URL + "/v1/environments/" + envID,
		"_links.user.href":        srv.URL + "/v1/environments/" + envID + "/users/" + userID,
	}
	for path, w := range want {
		if got := str(r.Body, path); got != w {
			t.Errorf("%s = %q, want %q", path, got, w)
		}
	}
	self := call(t, srv, http.MethodGet, strings.TrimPrefix(str(r.Body, "_links.self.href"), srv.URL), "")
	mustStatus(t, self, http.StatusOK)
}
