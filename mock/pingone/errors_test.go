package pingone_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/idpmock/idpmock/mock/pingone"
)

func jsonMarshal(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// TestErrors: every failure is PingOne's error body, with the documented
// status and codes, and names the offending field.
func TestErrors(t *testing.T) {
	srv := start(t, pingone.Options{}, t0)
	valid := sessionJSON(t0, "", "")
	seeded := sessionsPath + "/" + seededSessionID
	tests := []struct {
		name         string
		method, path string
		body         string
		hdr          []string
		status       int
		code         string
		detailCode   string // first detail's code, "" to skip
		target       string // first detail's target, "" to skip
	}{
		{name: "unknown session", method: http.MethodGet, path: sessionsPath + "/" + unknownID,
			status: 404, code: "NOT_FOUND"},
		{name: "unknown session update", method: http.MethodPut, path: sessionsPath + "/" + unknownID, body: valid,
			status: 404, code: "NOT_FOUND"},
		{name: "unknown session reset", method: http.MethodPost, path: sessionsPath + "/" + unknownID, hdr: []string{"Content-Type", logout},
			status: 404, code: "NOT_FOUND"},
		{name: "unknown user session", method: http.MethodDelete, path: "/v1/environments/" + envID + "/users/" + userID + "/sessions/" + unknownID,
			status: 404, code: "NOT_FOUND"},
		{name: "session ID not a UUID", method: http.MethodGet, path: sessionsPath + "/not-a-uuid",
			status: 404, code: "NOT_FOUND"},
		{name: "environment ID not a UUID", method: http.MethodPost, path: "/v1/environments/nope/sessions", body: valid,
			status: 404, code: "NOT_FOUND"},
		{name: "unknown path", method: http.MethodGet, path: "/v1/environments/" + envID + "/nothing",
			status: 404, code: "NOT_FOUND"},
		{name: "no bearer token", method: http.MethodGet, path: seeded, hdr: []string{"Authorization", ""},
			status: 401, code: "ACCESS_FAILED", detailCode: "INVALID_TOKEN", target: "Authentication Credentials"},
		{name: "not a bearer token", method: http.MethodPost, path: sessionsPath, body: valid, hdr: []string{"Authorization", "Basic dXNlcjpwdw=="},
			status: 401, code: "ACCESS_FAILED", detailCode: "INVALID_TOKEN"},
		{name: "malformed JSON", method: http.MethodPost, path: sessionsPath, body: `{"activeAt": `,
			status: 400, code: "INVALID_REQUEST"},
		{name: "missing userAgent", method: http.MethodPost, path: sessionsPath, body: `{"activeAt": "2024-05-01T12:00:00Z"}`,
			status: 400, code: "INVALID_DATA", detailCode: "REQUIRED_VALUE", target: "userAgent"},
		{name: "missing activeAt on update", method: http.MethodPut, path: seeded, body: `{"userAgent": "x"}`,
			status: 400, code: "INVALID_DATA", detailCode: "REQUIRED_VALUE", target: "activeAt"},
		{name: "activeAt not a date", method: http.MethodPost, path: sessionsPath, body: strings.Replace(valid, "2024-05-01T12:00:00Z", "yesterday", 1),
			status: 400, code: "INVALID_DATA", detailCode: "INVALID_VALUE", target: "activeAt"},
		{name: "nested field wrong type", method: http.MethodPost, path: sessionsPath, body: strings.Replace(valid, `"203.0.113.7"`, `42`, 1),
			status: 400, code: "INVALID_DATA", detailCode: "INVALID_VALUE", target: "lastSignOn.remoteIp"},
		{name: "nested required", method: http.MethodPost, path: sessionsPath, body: strings.Replace(valid, `"remoteIp": "203.0.113.7",`, ``, 1),
			status: 400, code: "INVALID_DATA", detailCode: "REQUIRED_VALUE", target: "lastSignOn.remoteIp"},
		{name: "user.id not a UUID", method: http.MethodPost, path: sessionsPath, body: strings.Replace(valid, userID, "bob", 1),
			status: 400, code: "INVALID_DATA", detailCode: "INVALID_VALUE", target: "user.id"},
		{name: "idle timeout not numeric", method: http.MethodPost, path: sessionsPath, body: sessionJSON(t0, `"soon"`, ""),
			status: 400, code: "INVALID_DATA", detailCode: "INVALID_VALUE", target: "idleTimeoutInMinutes"},
		{name: "idle timeout zero", method: http.MethodPost, path: sessionsPath, body: sessionJSON(t0, `"0"`, ""),
			status: 400, code: "INVALID_DATA", detailCode: "OUT_OF_RANGE", target: "idleTimeoutInMinutes"},
		{name: "idle timeout negative", method: http.MethodPut, path: seeded, body: sessionJSON(t0, `-5`, ""),
			status: 400, code: "INVALID_DATA", detailCode: "OUT_OF_RANGE", target: "idleTimeoutInMinutes"},
		{name: "idle timeout too large", method: http.MethodPost, path: sessionsPath, body: sessionJSON(t0, `"9999999999"`, ""),
			status: 400, code: "INVALID_DATA", detailCode: "OUT_OF_RANGE", target: "idleTimeoutInMinutes"},
		{name: "body not an object", method: http.MethodPost, path: sessionsPath, body: `[]`,
			status: 400, code: "INVALID_DATA"},
		{name: "create without body", method: http.MethodPost, path: sessionsPath,
			status: 400, code: "INVALID_DATA", detailCode: "REQUIRED_VALUE"},
		{name: "create as text", method: http.MethodPost, path: sessionsPath, body: valid, hdr: []string{"Content-Type", "text/plain"},
			status: 415, code: "INVALID_REQUEST", target: "Content-Type"},
		{name: "reset with JSON body", method: http.MethodPost, path: seeded, body: valid,
			status: 415, code: "INVALID_REQUEST", target: "Content-Type"},
		{name: "reset with empty JSON request", method: http.MethodPost, path: seeded, hdr: []string{"Content-Type", "application/json"},
			status: 415, code: "INVALID_REQUEST", target: "Content-Type"},
		{name: "reset without Content-Type", method: http.MethodPost, path: seeded,
			status: 415, code: "INVALID_REQUEST", target: "Content-Type"},
		{name: "reset with a body", method: http.MethodPost, path: seeded, body: `{"x":1}`, hdr: []string{"Content-Type", logout},
			status: 400, code: "INVALID_REQUEST", target: "body"},
		{name: "method not allowed", method: http.MethodPatch, path: seeded, body: valid,
			status: 405, code: "INVALID_REQUEST"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, srv, tc.method, tc.path, tc.body, tc.hdr...)
			b := errorBody(t, r, tc.status, tc.code)
			if tc.detailCode != "" && str(b, "details.0.code") != tc.detailCode {
				t.Errorf("details[0].code = %q, want %q; body %s", str(b, "details.0.code"), tc.detailCode, r.Raw)
			}
			if tc.target != "" && str(b, "details.0.target") != tc.target {
				t.Errorf("details[0].target = %q, want %q; body %s", str(b, "details.0.target"), tc.target, r.Raw)
			}
		})
	}
	// The failed calls changed nothing.
	r := call(t, srv, http.MethodGet, seeded, "")
	mustStatus(t, r, http.StatusOK)
	if r.Body["lastSignOn"] == nil {
		t.Error("a rejected reset signed the seeded session out")
	}
}

// TestErrorMessages pins the message strings PingOne is known to send.
func TestErrorMessages(t *testing.T) {
	srv := start(t, pingone.Options{}, t0)
	tests := []struct {
		name   string
		r      response
		status int
		msg    string
	}{
		{"404", call(t, srv, http.MethodGet, sessionsPath+"/"+unknownID, ""), 404,
			"The request could not be completed. The requested resource was not found."},
		{"401", call(t, srv, http.MethodGet, sessionsPath+"/"+unknownID, "", "Authorization", ""), 401,
			"The request could not be completed. You do not have access to this resource."},
		{"400", call(t, srv, http.MethodPost, sessionsPath, `{}`), 400,
			"The request could not be completed. One or more validation errors were in the request."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mustStatus(t, tc.r, tc.status)
			if got := str(tc.r.Body, "message"); got != tc.msg {
				t.Errorf("message %q, want %q", got, tc.msg)
			}
		})
	}
	r := call(t, srv, http.MethodGet, sessionsPath+"/"+unknownID, "", "Authorization", "")
	if got := str(r.Body, "details.0.message"); got != "The authorization token is either missing or invalid, or it has expired." {
		t.Errorf("401 detail message %q", got)
	}
	r = call(t, srv, http.MethodPost, sessionsPath, `{}`)
	targets := map[string]bool{}
	for _, d := range r.Body["details"].([]any) {
		targets[str(d, "target")] = true
	}
	if !targets["activeAt"] || !targets["userAgent"] {
		t.Errorf("every missing field is reported: %s", r.Raw)
	}
}
