package zitadel_test

import (
	"encoding/base64"
	"net/http"
	"testing"
)

// Requests the validator or the decoder rejects get ZITADEL's 400 code 3
// (REST) or invalid_argument (Connect), worded like ZITADEL's PGV validator
// or protojson decoder, naming the field.
func TestInvalidRequests(t *testing.T) {
	srv := start(t)
	cases := []struct {
		name, method, path, body string
		status                   int
		message                  string
	}{
		{"user oneof set twice", "POST", "/v2/sessions", `{"checks":{"user":{"loginName":"mini@mouse.com","userId":"x"}}}`, 400,
			`proto: (line 1:49): error parsing "userId", oneof zitadel.session.v2.CheckUser.search is already set`},
		{"user oneof empty", "POST", "/v2/sessions", `{"checks":{"user":{}}}`, 400,
			"invalid CreateSessionRequest.Checks: embedded message failed validation | caused by: invalid Checks.User: embedded message failed validation | caused by: invalid CheckUser.Search: value is required"},
		{"empty login name", "POST", "/v2/sessions", `{"checks":{"user":{"loginName":""}}}`, 400,
			"invalid CheckUser.LoginName: value length must be between 1 and 200 runes, inclusive"},
		{"missing password", "PATCH", "/v2/sessions/1", `{"checks":{"password":{}}}`, 400,
			"invalid SetSessionRequest.Checks: embedded message failed validation | caused by: invalid Checks.Password: embedded message failed validation | caused by: invalid CheckPassword.Password: value length must be between 1 and 200 runes, inclusive"},
		{"totp code length", "PATCH", "/v2/sessions/1", `{"checks":{"totp":{"code":"12345"}}}`, 400,
			"invalid CheckTOTP.Code: value length must be 6 runes"},
		{"bad duration", "POST", "/v2/sessions", `{"lifetime":"3600"}`, 400, `proto: (line 1:13): invalid google.protobuf.Duration value "3600"`},
		{"zero lifetime", "POST", "/v2/sessions", `{"lifetime":"0s"}`, 400, "invalid CreateSessionRequest.Lifetime: value must be greater than 0s"},
		{"unspecified user verification", "POST", "/v2/sessions", `{"challenges":{"webAuthN":{"domain":"x","userVerificationRequirement":"USER_VERIFICATION_REQUIREMENT_UNSPECIFIED"}}}`, 400,
			"invalid RequestChallenges_WebAuthN.UserVerificationRequirement: value must not be in list [0]"},
		{"wrong JSON type", "POST", "/v2/sessions", `{"checks":{"user":{"loginName":42}}}`, 400, "proto: (line 1:32): invalid value for string field loginName: 42"},
		{"malformed JSON", "POST", "/v2/sessions", `{"checks":`, 400, "unexpected EOF"},
		{"not JSON", "POST", "/v2/sessions", `{checks}`, 400, "invalid character 'c' looking for beginning of object key string"},
		{"enum of the wrong type", "POST", "/v2/sessions/search", `{"sortingColumn":true}`, 400, `proto: (line 1:18): invalid value for enum field sortingColumn: true`},
		{"bad offset", "POST", "/v2/sessions/search", `{"query":{"offset":"x"}}`, 400, `proto: (line 1:20): invalid value for uint64 field offset: "x"`},
		{"search query empty", "POST", "/v2/sessions/search", `{"queries":[{}]}`, 400,
			"invalid ListSessionsRequest.Queries[0]: embedded message failed validation | caused by: invalid SearchQuery.Query: value is required"},
		{"empty token parameter", "GET", "/v2/sessions/1?sessionToken=", "", 400,
			"invalid GetSessionRequest.SessionToken: value length must be between 1 and 200 runes, inclusive"},
		{"otp email oneof twice", "POST", "/v2/sessions", `{"challenges":{"otpEmail":{"returnCode":{},"sendCode":{}}}}`, 400,
			"oneof zitadel.session.v2.RequestChallenges.OTPEmail.delivery_type is already set"},
		{"bad metadata base64", "POST", "/v2/sessions", `{"metadata":{"k":"***"}}`, 400, "bytes field"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := call(t, srv, c.method, c.path, c.body)
			wantError(t, r, c.status, 3, c.message)
			if has(r.body, "details") {
				t.Errorf("validation errors carry no details: %s", r.raw)
			}
		})
	}
}

func TestConnectInvalidRequests(t *testing.T) {
	srv := start(t)
	cases := []struct{ name, method, body, message string }{
		{"missing session id", "GetSession", `{}`, "invalid GetSessionRequest.SessionId: value length must be between 1 and 200 runes, inclusive"},
		{"empty body", "GetSession", "", "unmarshal message: zero-length payload is not a valid JSON object"},
		{"oneof twice", "CreateSession", `{"checks":{"user":{"loginName":"a","userId":"b"}}}`, `unmarshal message: unmarshal into *session.CreateSessionRequest: proto: (line 1:36): error parsing "userId", oneof zitadel.session.v2.CheckUser.search is already set`},
		{"set without id", "SetSession", `{"checks":{"password":{"password":"x"}}}`, "invalid SetSessionRequest.SessionId"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := callWith(t, srv, http.MethodPost, connectSv+c.method, c.body, map[string]string{"Authorization": bearer, "Content-Type": "application/json"})
			wantConnectError(t, r, http.StatusBadRequest, "invalid_argument", c.message)
		})
	}
}

// Generic failures in each face's own format.
func TestTransportErrors(t *testing.T) {
	srv := start(t)
	cases := []struct {
		name, method, path, body string
		headers                  map[string]string
		status                   int
		rest                     bool
		code                     any
		message                  string
	}{
		{"REST without bearer", "POST", "/v2/sessions", `{}`, map[string]string{"Authorization": ""}, 401, true, 16.0, "auth header missing"},
		{"REST basic auth", "GET", "/v2/sessions/1", "", map[string]string{"Authorization": "Basic eDp5"}, 401, true, 16.0, "invalid auth header (AUTH-7fs1e)"},
		{"Connect without bearer", "POST", connectSv + "ListSessions", `{}`, map[string]string{"Authorization": ""}, 401, false, "unauthenticated", "auth header missing"},
		{"REST wrong method", "POST", "/v2/sessions/123", "", nil, 405, true, 12.0, "Method Not Allowed"},
		{"REST unknown path", "GET", "/v2/users/me", "", nil, 404, true, 5.0, "Not Found"},
		{"Connect unknown method", "POST", connectSv + "Frobnicate", `{}`, nil, 404, false, "unimplemented", "Not Found"},
		// Binary Connect is served (rpc_test.go); a body that is not a
		// protobuf message is refused as connect-go refuses it.
		{"Connect binary garbage", "POST", connectSv + "CreateSession", `{}`, map[string]string{"Content-Type": "application/proto"}, 400, false, "invalid_argument", "unmarshal message: unmarshal into *session.CreateSessionRequest: proto: cannot parse invalid wire-format data"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := map[string]string{"Authorization": bearer}
			for k, v := range c.headers {
				h[k] = v
			}
			r := callWith(t, srv, c.method, c.path, c.body, h)
			if c.rest {
				wantError(t, r, c.status, c.code.(float64), c.message)
			} else {
				wantConnectError(t, r, c.status, c.code.(string), c.message)
			}
		})
	}
}

// ZITADEL's gateway decodes with protojson and DiscardUnknown: unknown
// members and enum names are dropped, enum numbers taken, and only the
// first JSON value is read.
func TestRESTDecodesLikeTheGateway(t *testing.T) {
	srv := start(t)
	for _, body := range []string{
		`{"sortingColumn":"NAME"}`,
		`{"sortingColumn":1,"query":{"asc":true}}`,
		`{"queries":[{"creationDateQuery":{"creationDate":"2020-01-01T00:00:00Z","method":2}}],"unknown":{"a":[1]}}`,
		`{"query":{"limit":1}} trailing bytes the gateway never reads`,
		`{"queries":[{"user_id_query":{"id":"` + miniID + `"}}]}`, // proto names, as protojson takes them
	} {
		r := call(t, srv, http.MethodPost, "/v2/sessions/search", body)
		wantStatus(t, r, http.StatusOK)
	}
	r := call(t, srv, http.MethodPost, "/v2/sessions", `{"checks":{"user":{"loginName":"mini@mouse.com"}},"challenges":{"webAuthN":{"domain":"x","userVerificationRequirement":2}}}`)
	wantStatus(t, r, http.StatusCreated)
	r = call(t, srv, http.MethodPost, "/v2/sessions", `{"checks":{"user":{"login_name":"mini@mouse.com"}},"unknown":1} and more`)
	wantStatus(t, r, http.StatusCreated)
	if str(r.body, "sessionId") == "" {
		t.Fatalf("create with proto field names: %s", r.raw)
	}
}

// The REST gateway reads any body as JSON; Connect picks the codec by
// Content-Type.
func TestRESTBodyWithoutJSONContentType(t *testing.T) {
	srv := start(t)
	r := callWith(t, srv, http.MethodPost, "/v2/sessions", `{"checks":{"user":{"loginName":"mini@mouse.com"}}}`,
		map[string]string{"Authorization": bearer, "Content-Type": "text/plain"})
	wantStatus(t, r, http.StatusCreated)
	// An empty REST body is an empty message.
	r = callWith(t, srv, http.MethodPost, "/v2/sessions", "", map[string]string{"Authorization": bearer})
	wantStatus(t, r, http.StatusCreated)
	if has(r.body, "challenges") {
		t.Errorf("no challenges requested, none answered: %s", r.raw)
	}
}

// Business errors over Connect keep ZITADEL's id and message and carry the
// detail as type/value/debug, with connect-go's status mapping.
func TestConnectErrorMapping(t *testing.T) {
	srv := start(t)
	r := call(t, srv, http.MethodPost, connectSv+"CreateSession", `{"checks":{"user":{"loginName":"mini@mouse.com"},"password":{"password":"wrong"}}}`)
	wantConnectError(t, r, 400, "invalid_argument", "Password is invalid (COMMAND-3M0fs)")
	if str(r.body, "details.0.type") != "zitadel.v1.CredentialsCheckError" {
		t.Fatalf("detail type: %s", r.raw)
	}
	if got := str(r.body, "details.0.value"); got != "Cg1DT01NQU5ELTNNMGZzEhNQYXNzd29yZCBpcyBpbnZhbGlkGAE" {
		t.Fatalf("detail value %q is not the binary CredentialsCheckError{id, message, failedAttempts: 1}", got)
	}
	if _, err := base64.RawStdEncoding.DecodeString(str(r.body, "details.0.value")); err != nil {
		t.Fatalf("value is not unpadded standard base64: %v", err)
	}
	if n, _ := get(r.body, "details.0.debug.failedAttempts").(float64); n != 1 || str(r.body, "details.0.debug.id") != "COMMAND-3M0fs" {
		t.Fatalf("debug: %s", r.raw)
	}

	cases := []struct {
		name, method, body string
		status             int
		code, message      string
	}{
		{"unknown session", "GetSession", `{"sessionId":"1"}`, 404, "not_found", "Session does not exist (QUERY-SFeaa)"},
		{"unknown user", "CreateSession", `{"checks":{"user":{"loginName":"nobody@mouse.com"}}}`, 404, "not_found", "User could not be found (QUERY-Dfbg2)"},
		{"inactive user", "CreateSession", `{"checks":{"user":{"loginName":"inactive@mouse.com"}}}`, 400, "failed_precondition", "SESSION-Gj4ko"},
		{"wrong delete token", "DeleteSession", `{"sessionId":"1","sessionToken":"nope"}`, 403, "permission_denied", "Session Token is invalid (COMMAND-sGr42)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := call(t, srv, http.MethodPost, connectSv+c.method, c.body)
			wantConnectError(t, r, c.status, c.code, c.message)
			if str(r.body, "details.0.type") != "zitadel.v1.ErrorDetail" || str(r.body, "details.0.value") == "" {
				t.Fatalf("detail: %s", r.raw)
			}
		})
	}
}
