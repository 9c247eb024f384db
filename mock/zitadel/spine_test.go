package zitadel_test

import (
	"net/http"
	"regexp"
	"testing"
)

// The spine: create with a user check, read, set with a password check,
// list by id, delete; unknown ids are 404 code 5.
func TestSpineREST(t *testing.T) {
	srv := start(t)
	id, token := createMini(t, srv, "")
	if !regexp.MustCompile(`^[0-9]{15,20}$`).MatchString(id) {
		t.Fatalf("session id %q is not a numeric ZITADEL id", id)
	}
	if len(token) < 40 {
		t.Fatalf("session token %q too short", token)
	}

	r := call(t, srv, http.MethodGet, "/v2/sessions/"+id, "")
	wantStatus(t, r, http.StatusOK)
	for path, want := range map[string]string{
		"session.id":                          id,
		"session.factors.user.id":             miniID,
		"session.factors.user.loginName":      "mini@mouse.com",
		"session.factors.user.displayName":    "Mini Mouse",
		"session.factors.user.organizationId": "280310220617252866",
	} {
		if got := str(r.body, path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	if has(r.body, "session.factors.password") {
		t.Errorf("password factor before the password check: %s", r.raw)
	}

	r = call(t, srv, http.MethodPatch, "/v2/sessions/"+id, `{"checks":{"password":{"password":"Password1!"}}}`)
	wantStatus(t, r, http.StatusOK)
	newToken := str(r.body, "sessionToken")
	if newToken == "" || newToken == token {
		t.Fatalf("SetSession must mint a new token: %s", r.raw)
	}

	r = call(t, srv, http.MethodPost, "/v2/sessions/search", `{"queries":[{"idsQuery":{"ids":["`+id+`"]}}]}`)
	wantStatus(t, r, http.StatusOK)
	if got := str(r.body, "details.totalResult"); got != "1" {
		t.Fatalf("totalResult %q, want \"1\": %s", got, r.raw)
	}
	if str(r.body, "sessions.0.id") != id || !has(r.body, "sessions.0.factors.password.verifiedAt") {
		t.Fatalf("listed session lacks the password factor: %s", r.raw)
	}

	r = call(t, srv, http.MethodDelete, "/v2/sessions/"+id, `{"sessionToken":"`+newToken+`"}`)
	wantStatus(t, r, http.StatusOK)
	if str(r.body, "details.resourceOwner") != instance {
		t.Fatalf("delete details: %s", r.raw)
	}
	r = call(t, srv, http.MethodGet, "/v2/sessions/"+id, "")
	wantError(t, r, http.StatusNotFound, 5, "Session does not exist (QUERY-SFeaa)")
	if str(r.body, "details.0.@type") != "type.googleapis.com/zitadel.v1.ErrorDetail" || str(r.body, "details.0.id") != "QUERY-SFeaa" {
		t.Fatalf("404 detail: %s", r.raw)
	}
}

// The seed page's SetSession: PATCH with the deprecated token, checks,
// metadata, every challenge and a lifetime answers 200 shaped like the
// documented example (details, sessionToken, challenges).
func TestSeedSetSession(t *testing.T) {
	srv := start(t)
	id, _ := createMini(t, srv, "")
	body := `{
  "sessionToken": "string",
  "checks": {"password": {"password": "Password1!"}},
  "metadata": {"key": "dmFsdWU="},
  "challenges": {
    "webAuthN": {"domain": "localhost", "userVerificationRequirement": "USER_VERIFICATION_REQUIREMENT_REQUIRED"},
    "otpSms": {"returnCode": true},
    "otpEmail": {"returnCode": {}}
  },
  "lifetime": "18000s"
}`
	r := call(t, srv, http.MethodPatch, "/v2/sessions/"+id, body)
	wantStatus(t, r, http.StatusOK)
	for _, p := range []string{"details.sequence", "details.changeDate", "details.resourceOwner", "sessionToken",
		"challenges.webAuthN.publicKeyCredentialRequestOptions.publicKey.challenge",
		"challenges.webAuthN.publicKeyCredentialRequestOptions.publicKey.rpId",
		"challenges.webAuthN.publicKeyCredentialRequestOptions.publicKey.userVerification",
		"challenges.webAuthN.publicKeyCredentialRequestOptions.publicKey.allowCredentials.0.id",
		"challenges.webAuthN.publicKeyCredentialRequestOptions.publicKey.allowCredentials.0.type",
		"challenges.otpSms", "challenges.otpEmail"} {
		if _, ok := get(r.body, p).(string); !ok {
			t.Errorf("%s missing or not a string: %s", p, r.raw)
		}
	}
	if n, ok := get(r.body, "challenges.webAuthN.publicKeyCredentialRequestOptions.publicKey.timeout").(float64); !ok || n != 300000 {
		t.Errorf("timeout = %v, want the number 300000", n)
	}
	if str(r.body, "sessionToken") == "string" {
		t.Errorf("the deprecated request token was echoed instead of a new one")
	}
	if str(r.body, "challenges.webAuthN.publicKeyCredentialRequestOptions.publicKey.rpId") != "localhost" ||
		str(r.body, "challenges.webAuthN.publicKeyCredentialRequestOptions.publicKey.allowCredentials.0.id") != "ATmqBg-99qyOZk2zloPdJQyS2R7IkFT7v9Hoos_B_nM" {
		t.Errorf("webAuthN options: %s", r.raw)
	}
	if !regexp.MustCompile(`^[0-9]{8}$`).MatchString(str(r.body, "challenges.otpSms")) {
		t.Errorf("otpSms code: %s", r.raw)
	}
}

// Create over REST, read and change over Connect, and back.
func TestSameStateBothFaces(t *testing.T) {
	srv := start(t)
	id, _ := createMini(t, srv, `,"lifetime":"3600s"`)

	r := call(t, srv, http.MethodPost, connectSv+"GetSession", `{"sessionId":"`+id+`"}`)
	wantStatus(t, r, http.StatusOK)
	if str(r.body, "session.factors.user.loginName") != "mini@mouse.com" || !has(r.body, "session.expirationDate") {
		t.Fatalf("Connect GetSession: %s", r.raw)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}

	r = call(t, srv, http.MethodPost, connectSv+"SetSession", `{"sessionId":"`+id+`","checks":{"password":{"password":"Password1!"}}}`)
	wantStatus(t, r, http.StatusOK)
	token := str(r.body, "sessionToken")

	r = call(t, srv, http.MethodGet, "/v2/sessions/"+id+"?sessionToken="+token, "")
	wantStatus(t, r, http.StatusOK)
	if !has(r.body, "session.factors.password.verifiedAt") {
		t.Fatalf("REST does not see the Connect password check: %s", r.raw)
	}

	// connect-es and the official SDKs may add a charset.
	r = callWith(t, srv, http.MethodPost, connectSv+"GetSession", `{"sessionId":"`+id+`"}`,
		map[string]string{"Authorization": bearer, "Content-Type": "application/json; charset=utf-8", "Connect-Protocol-Version": "1"})
	wantStatus(t, r, http.StatusOK)

	// Connect create answers 200, not 201.
	r = call(t, srv, http.MethodPost, connectSv+"CreateSession", `{"checks":{"user":{"userId":"`+mickeyID+`"}}}`)
	wantStatus(t, r, http.StatusOK)
	r = call(t, srv, http.MethodPost, connectSv+"ListSessions", `{}`)
	wantStatus(t, r, http.StatusOK)
	if str(r.body, "details.totalResult") != "2" {
		t.Fatalf("Connect ListSessions: %s", r.raw)
	}
	r = call(t, srv, http.MethodPost, connectSv+"DeleteSession", `{"sessionId":"`+id+`","sessionToken":"`+token+`"}`)
	wantStatus(t, r, http.StatusOK)
	r = call(t, srv, http.MethodGet, "/v2/sessions/"+id, "")
	wantError(t, r, http.StatusNotFound, 5, "QUERY-SFeaa")
}
