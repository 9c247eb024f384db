package zitadel_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// rfc6238 computes a TOTP code independently of the mock (SHA-1, 6 digits, 30 s).
func rfc6238(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		t.Fatal(err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(at.Unix()/30))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	o := sum[19] & 0x0f
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[o:o+4])&0x7fffffff)%1_000_000)
}

func TestRFC6238Vector(t *testing.T) {
	// RFC 6238 appendix B, SHA-1 secret "12345678901234567890", T=59 → 94287082 (8 digits) → 287082.
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte("12345678901234567890"))
	if got := rfc6238(t, secret, time.Unix(59, 0)); got != "287082" {
		t.Fatalf("test helper TOTP %s, want 287082", got)
	}
}

// Each check, over REST, against the seeded users; a success sets
// factors.<kind>.verifiedAt, a failure answers ZITADEL's id.
func TestChecks(t *testing.T) {
	srv := start(t)
	srv.Clock().Freeze()
	now := srv.Clock().Now()
	totp := rfc6238(t, "JBSWY3DPEHPK3PXP", now)
	oldTOTP := rfc6238(t, "JBSWY3DPEHPK3PXP", now.Add(-2*time.Minute))

	cases := []struct {
		name   string
		setup  string // extra create members, after the user check
		set    string // SetSession body
		status int
		code   float64
		msg    string
		factor string // factor expected after success
	}{
		{"password", "", `{"checks":{"password":{"password":"Password1!"}}}`, 200, 0, "", "password"},
		{"totp", "", `{"checks":{"totp":{"code":"` + totp + `"}}}`, 200, 0, "", "totp"},
		{"totp wrong", "", `{"checks":{"totp":{"code":"` + oldTOTP + `"}}}`, 400, 3, "Invalid code (EVENT-8isk2)", ""},
		{"otp sms without challenge", "", `{"checks":{"otpSms":{"code":"12345678"}}}`, 400, 9, "Code not found (COMMAND-SF3tv)", ""},
		{"otp email without challenge", "", `{"checks":{"otpEmail":{"code":"12345678"}}}`, 400, 9, "COMMAND-zF3g3", ""},
		{"webauthn without challenge", "", `{"checks":{"webAuthN":{"credentialAssertionData":{"id":"x"}}}}`, 400, 9, "Session without WebAuthN challenge (COMMAND-Ioqu5)", ""},
		{"intent", "", `{"checks":{"idpIntent":{"idpIntentId":"280310400000000001","idpIntentToken":"intent-token-mini"}}}`, 200, 0, "", "intent"},
		{"intent via idp link", "", `{"checks":{"idpIntent":{"idpIntentId":"280310400000000002","idpIntentToken":"intent-token-linked"}}}`, 200, 0, "", "intent"},
		{"intent not succeeded", "", `{"checks":{"idpIntent":{"idpIntentId":"280310400000000003","idpIntentToken":"intent-token-started"}}}`, 400, 9, "Intent has not succeeded (COMMAND-Df4bw)", ""},
		{"intent of another user", "", `{"checks":{"idpIntent":{"idpIntentId":"280310400000000004","idpIntentToken":"intent-token-mickey"}}}`, 400, 9, "Intent meant for another user (COMMAND-O8xk3w)", ""},
		{"intent wrong token", "", `{"checks":{"idpIntent":{"idpIntentId":"280310400000000001","idpIntentToken":"nope"}}}`, 403, 7, "Intent Token is invalid", ""},
		{"intent expired", "", `{"checks":{"idpIntent":{"idpIntentId":"280310400000000005","idpIntentToken":"intent-token-expired"}}}`, 400, 9, "Intent has expired", ""},
		{"recovery code", "", `{"checks":{"recoveryCode":{"code":"R3C0-V3RY-0002"}}}`, 200, 0, "", "recoveryCode"},
		{"recovery code wrong", "", `{"checks":{"recoveryCode":{"code":"nope"}}}`, 400, 3, "Invalid recovery code provided (DOMAIN-6uvh0)", ""},
		{"user change", "", `{"checks":{"user":{"loginName":"mickey@mouse.com"}}}`, 400, 3, "user change not possible", ""},
		{"same user again", "", `{"checks":{"user":{"userId":"` + miniID + `"}}}`, 200, 0, "", "user"},
		{"unknown user", "", `{"checks":{"user":{"loginName":"nobody@mouse.com"}}}`, 404, 5, "User could not be found (QUERY-Dfbg2)", ""},
		{"login name is case-insensitive", "", `{"checks":{"user":{"loginName":"MINI@Mouse.com"}}}`, 200, 0, "", "user"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, _ := createMini(t, srv, c.setup)
			r := call(t, srv, http.MethodPatch, "/v2/sessions/"+id, c.set)
			if c.status != 200 {
				wantError(t, r, c.status, c.code, c.msg)
				return
			}
			wantStatus(t, r, 200)
			g := call(t, srv, http.MethodGet, "/v2/sessions/"+id, "")
			if at := str(g.body, "session.factors."+c.factor+".verifiedAt"); at == "" || !mustTime(t, at).Equal(usec(now)) {
				t.Fatalf("factor %s not verified at %v: %s", c.factor, now, g.raw)
			}
		})
	}
}

func TestUserStates(t *testing.T) {
	srv := start(t)
	cases := []struct {
		login  string
		status int
		code   float64
		msg    string
	}{
		{"locked@mouse.com", 400, 9, "(SESSION-Gj4ko)"},
		{"inactive@mouse.com", 400, 9, "(SESSION-Gj4ko)"},
		{"nobody@mouse.com", 404, 5, "User could not be found (QUERY-Dfbg2)"},
	}
	for _, c := range cases {
		t.Run(c.login, func(t *testing.T) {
			r := call(t, srv, http.MethodPost, "/v2/sessions", `{"checks":{"user":{"loginName":"`+c.login+`"}}}`)
			wantError(t, r, c.status, c.code, c.msg)
		})
	}
	r := call(t, srv, http.MethodPost, "/v2/sessions", `{"checks":{"password":{"password":"Password1!"}}}`)
	wantError(t, r, 400, 9, "User ID missing (COMMAND-Sfw3f)")
	r = call(t, srv, http.MethodPost, "/v2/sessions", `{"checks":{"user":{"loginName":"nopassword@mouse.com"},"password":{"password":"x"}}}`)
	wantError(t, r, 400, 9, "User has not set a password (COMMAND-WEf3t)")
}

// Wrong passwords count failedAttempts in a CredentialsCheckError and lock
// the user at the configured maximum (5 in the fixtures); a good password
// resets the count.
func TestWrongPasswordAndLockout(t *testing.T) {
	srv := start(t)
	id, _ := createMini(t, srv, "")
	wrong := `{"checks":{"password":{"password":"wrong"}}}`
	for i := 1; i <= 2; i++ {
		r := call(t, srv, http.MethodPatch, "/v2/sessions/"+id, wrong)
		wantError(t, r, 400, 3, "Password is invalid (COMMAND-3M0fs)")
		if str(r.body, "details.0.@type") != "type.googleapis.com/zitadel.v1.CredentialsCheckError" || str(r.body, "details.0.id") != "COMMAND-3M0fs" {
			t.Fatalf("detail: %s", r.raw)
		}
		if n, _ := get(r.body, "details.0.failedAttempts").(float64); int(n) != i {
			t.Fatalf("failedAttempts %v, want %d", n, i)
		}
	}
	// The failed checks left the session untouched.
	g := call(t, srv, http.MethodGet, "/v2/sessions/"+id, "")
	if has(g.body, "session.factors.password") {
		t.Fatalf("failed check set a factor: %s", g.raw)
	}
	r := call(t, srv, http.MethodPatch, "/v2/sessions/"+id, `{"checks":{"password":{"password":"Password1!"}}}`)
	wantStatus(t, r, 200)
	for i := 1; i <= 5; i++ {
		r = call(t, srv, http.MethodPatch, "/v2/sessions/"+id, wrong)
		wantError(t, r, 400, 3, "COMMAND-3M0fs")
		if n, _ := get(r.body, "details.0.failedAttempts").(float64); int(n) != i {
			t.Fatalf("after a good password the count restarts: failedAttempts %v, want %d", n, i)
		}
	}
	r = call(t, srv, http.MethodPatch, "/v2/sessions/"+id, `{"checks":{"password":{"password":"Password1!"}}}`)
	wantError(t, r, 400, 9, "User is locked (COMMAND-JLK35)")
	r = call(t, srv, http.MethodPost, "/v2/sessions", `{"checks":{"user":{"loginName":"mini@mouse.com"}}}`)
	wantError(t, r, 400, 9, "SESSION-Gj4ko")
	// Reset restores the fixture user.
	srv.Reset(t)
	createMini(t, srv, "")
}

// OTP codes are returned only when asked, single use, and expire.
func TestOTPChallenges(t *testing.T) {
	srv := start(t)
	for _, kind := range []struct{ name, challenge, check string }{
		{"otpSms", `{"otpSms":{"returnCode":true}}`, "otpSms"},
		{"otpEmail", `{"otpEmail":{"returnCode":{}}}`, "otpEmail"},
	} {
		t.Run(kind.name, func(t *testing.T) {
			id, _ := createMini(t, srv, `,"challenges":`+kind.challenge)
			// The code comes back in the create response.
			r := call(t, srv, http.MethodPatch, "/v2/sessions/"+id, `{"challenges":`+kind.challenge+`}`)
			wantStatus(t, r, 200)
			code := str(r.body, "challenges."+kind.check)
			if len(code) != 8 {
				t.Fatalf("code %q: %s", code, r.raw)
			}
			check := func(c string) reply {
				return call(t, srv, http.MethodPatch, "/v2/sessions/"+id, `{"checks":{"`+kind.check+`":{"code":"`+c+`"}}}`)
			}
			wantError(t, check("00000000x"), 400, 3, "Code is invalid (CODE-woT0xc)")
			wantStatus(t, check(code), 200)
			wantError(t, check(code), 400, 9, "Code not found")
			g := call(t, srv, http.MethodGet, "/v2/sessions/"+id, "")
			if !has(g.body, "session.factors."+kind.check+".verifiedAt") {
				t.Fatalf("no %s factor: %s", kind.check, g.raw)
			}
			// Expiry: a new code, five minutes and a second later.
			r = call(t, srv, http.MethodPatch, "/v2/sessions/"+id, `{"challenges":`+kind.challenge+`}`)
			srv.Clock().Advance(5*time.Minute + time.Second)
			wantError(t, check(str(r.body, "challenges."+kind.check)), 400, 3, "Code is expired")
		})
	}
	// Sending (not returning) answers no code.
	id, _ := createMini(t, srv, "")
	r := call(t, srv, http.MethodPatch, "/v2/sessions/"+id, `{"challenges":{"otpEmail":{"sendCode":{"urlTemplate":"https://example.com/otp?code={{.Code}}"}},"otpSms":{}}}`)
	wantStatus(t, r, 200)
	if has(r.body, "challenges.otpEmail") || has(r.body, "challenges.otpSms") {
		t.Fatalf("sent codes must not be returned: %s", r.raw)
	}
	r = call(t, srv, http.MethodPatch, "/v2/sessions/"+id, `{"challenges":{"otpSms":{"returnCode":true}}}`)
	wantStatus(t, r, 200)
	// A user without SMS OTP cannot be challenged.
	mid := call(t, srv, http.MethodPost, "/v2/sessions", `{"checks":{"user":{"loginName":"mickey@mouse.com"}}}`)
	r = call(t, srv, http.MethodPatch, "/v2/sessions/"+str(mid.body, "sessionId"), `{"challenges":{"otpSms":{"returnCode":true}}}`)
	wantError(t, r, 400, 9, "(COMMAND-BJ2g3)")
	// No user, no challenge.
	r = call(t, srv, http.MethodPost, "/v2/sessions", `{"challenges":{"otpEmail":{"returnCode":{}}}}`)
	wantError(t, r, 400, 9, "User ID missing (COMMAND-JK3gp)")
}

// WebAuthN: the challenge lists the user's passkey; any well-formed
// assertion for it passes and records user verification.
func TestWebAuthN(t *testing.T) {
	srv := start(t)
	id, _ := createMini(t, srv, `,"challenges":{"webAuthN":{"domain":"login.example.com","userVerificationRequirement":"USER_VERIFICATION_REQUIREMENT_REQUIRED"}}`)
	g := call(t, srv, http.MethodGet, "/v2/sessions/"+id, "")
	if has(g.body, "session.factors.webAuthN") {
		t.Fatal("factor before check")
	}
	authData := make([]byte, 37)
	authData[32] = 0x05 // user present + user verified
	assertion := func(credID string) string {
		return `{"checks":{"webAuthN":{"credentialAssertionData":{"id":"` + credID + `","rawId":"` + credID + `","type":"public-key","response":{"clientDataJSON":"eyJ0eXBlIjoid2ViYXV0aG4uZ2V0In0","authenticatorData":"` +
			base64.RawURLEncoding.EncodeToString(authData) + `","signature":"MEUCIQ","userHandle":"MjgwMzEw"}}}}}`
	}
	r := call(t, srv, http.MethodPatch, "/v2/sessions/"+id, assertion("c29tZW90aGVyaWQ"))
	wantError(t, r, 400, 9, "WebAuthN Token could not be found")
	r = call(t, srv, http.MethodPatch, "/v2/sessions/"+id, `{"checks":{"webAuthN":{"credentialAssertionData":{"id":"ATmqBg-99qyOZk2zloPdJQyS2R7IkFT7v9Hoos_B_nM"}}}}`)
	wantError(t, r, 400, 3, "Error on parse credential data")
	r = call(t, srv, http.MethodPatch, "/v2/sessions/"+id, assertion("ATmqBg-99qyOZk2zloPdJQyS2R7IkFT7v9Hoos_B_nM"))
	wantStatus(t, r, 200)
	g = call(t, srv, http.MethodGet, "/v2/sessions/"+id, "")
	if get(g.body, "session.factors.webAuthN.userVerified") != true || !has(g.body, "session.factors.webAuthN.verifiedAt") {
		t.Fatalf("webAuthN factor: %s", g.raw)
	}
	// added, user checked, challenged, token set = 4; the check adds the
	// checked event, the key's sign-count event (also on the session
	// aggregate in ZITADEL) and a token: 7.
	if str(r.body, "details.sequence") != "7" || str(g.body, "session.sequence") != "7" {
		t.Fatalf("sequence after the WebAuthN check: set %s, get %s", r.raw, g.raw)
	}
	// The challenge is used up.
	r = call(t, srv, http.MethodPatch, "/v2/sessions/"+id, assertion("ATmqBg-99qyOZk2zloPdJQyS2R7IkFT7v9Hoos_B_nM"))
	wantError(t, r, 400, 9, "COMMAND-Ioqu5")
}
