package zitadel

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"math/big"
	"net"
	"slices"
	"strings"
	"text/template"
	"time"

	gen "github.com/idpmock/idpmock/gen/zitadel"
	"github.com/idpmock/idpmock/mock/state"
)

// resolveUser finds the user of a user check before anything else happens,
// as ZITADEL's API layer does: unknown users are 404, disabled ones 400.
func (s *service) resolveUser(ctx context.Context, checks *gen.Checks) (*user, *zerr) {
	if checks == nil || checks.User == nil {
		return nil, nil
	}
	cu := checks.User
	var u *user
	switch {
	case cu.UserId != nil:
		found, err := s.users.Get(ctx, *cu.UserId)
		if err != nil {
			if errors.Is(err, state.ErrNotFound) {
				return nil, errUserNotFound()
			}
			return nil, storeErr(err)
		}
		u = found
	case cu.LoginName != nil:
		found, err := s.userByLoginName(ctx, *cu.LoginName)
		if err != nil {
			return nil, storeErr(err)
		}
		if found == nil {
			return nil, errUserNotFound()
		}
		u = found
	default:
		return nil, plainErr(codeInvalidArgument, "invalid CheckUser.Search: value is required")
	}
	if !u.enabled() {
		return nil, errUserNotActive()
	}
	return u, nil
}

func (s *service) userByLoginName(ctx context.Context, name string) (*user, error) {
	fold := !s.inst.Load().LoginNameCaseSensitive
	all, err := s.users.Lookup(ctx, byLoginName, strings.ToLower(name))
	if err != nil {
		return nil, err
	}
	for _, u := range all { // ordered by id, as the scan was
		if fold || slices.Contains(u.LoginNames, name) {
			return u, nil
		}
	}
	return nil, nil
}

// apply runs the checks, then the challenges, then metadata and lifetime,
// in ZITADEL's order; the first failure aborts the whole call (only user
// counters such as failed password attempts persist).
func (s *service) apply(ctx context.Context, c *change, checked *user, in input, p parsed) *zerr {
	sess := c.s
	if checked != nil {
		if sess.UserID != "" && sess.UserID != checked.ID {
			return errUserChange()
		}
		sess.UserID, sess.UserOrgID, sess.UserCheckedAt = checked.ID, checked.OrganizationID, c.now
		c.events++
	}
	if ch := in.checks; ch != nil {
		steps := []struct {
			on  bool
			run func() *zerr
		}{
			{ch.Password != nil, func() *zerr { return s.checkPassword(ctx, c, ch.Password.Password) }},
			{ch.IdpIntent != nil, func() *zerr { return s.checkIntent(ctx, c, ch.IdpIntent) }},
			{ch.WebAuthN != nil, func() *zerr { return s.checkWebAuthN(ctx, c, ch.WebAuthN.CredentialAssertionData) }},
			{ch.Totp != nil, func() *zerr { return s.checkTOTP(ctx, c, ch.Totp.Code) }},
			{ch.OtpSms != nil, func() *zerr {
				return checkOTP(c, c.s.OTPSMS, ch.OtpSms.Code, "COMMAND-VDrh3", "COMMAND-SF3tv", &c.s.OTPSMS, &c.s.OTPSMSAt)
			}},
			{ch.OtpEmail != nil, func() *zerr {
				return checkOTP(c, c.s.OTPEmail, ch.OtpEmail.Code, "COMMAND-ejo2w", "COMMAND-zF3g3", &c.s.OTPEmail, &c.s.OTPEmailAt)
			}},
			{ch.RecoveryCode != nil, func() *zerr { return s.checkRecoveryCode(ctx, c, ch.RecoveryCode.Code) }},
		}
		for _, st := range steps {
			if !st.on {
				continue
			}
			if zerr := st.run(); zerr != nil {
				return zerr
			}
			c.events++
		}
	}
	if rc := in.challenges; rc != nil {
		c.resp = &gen.Challenges{}
		if rc.WebAuthN != nil {
			if zerr := s.challengeWebAuthN(ctx, c, rc.WebAuthN); zerr != nil {
				return zerr
			}
			c.events++
		}
		if rc.OtpSms != nil {
			if zerr := s.challengeOTPSMS(ctx, c, deref(rc.OtpSms.ReturnCode)); zerr != nil {
				return zerr
			}
			c.events++
		}
		if rc.OtpEmail != nil {
			if zerr := s.challengeOTPEmail(ctx, c, rc.OtpEmail); zerr != nil {
				return zerr
			}
			c.events++
		}
	}
	if p.metadata != nil {
		changed := false
		for _, k := range sortedKeys(p.metadata) {
			v := p.metadata[k]
			cur, exists := sess.Metadata[k]
			switch {
			case len(v) > 0 && !bytes.Equal(cur, v):
				sess.Metadata[k] = v
				changed = true
			case len(v) == 0 && exists:
				delete(sess.Metadata, k)
				changed = true
			}
		}
		if changed {
			c.events++
		}
	}
	if p.hasLife {
		// The projection stores created_at + lifetime in a timestamptz.
		sess.Expiration = eventTime(c.now.Add(p.lifetime))
		c.events++
	}
	return nil
}

// sessionUser loads the session's checked user for a check that needs one:
// the user this request's user check read, else a read of its own.
func (s *service) sessionUser(ctx context.Context, c *change, missingID string) (*user, *zerr) {
	if c.s.UserID == "" {
		return nil, errUserIDMissing(missingID)
	}
	if c.checked != nil && c.checked.ID == c.s.UserID {
		return c.checked, nil
	}
	u, err := s.users.Get(ctx, c.s.UserID)
	if errors.Is(err, state.ErrNotFound) {
		return nil, newErr(codeFailedPrecondition, "COMMAND-Df4b3", "Errors.User.NotFound")
	}
	if err != nil {
		return nil, storeErr(err)
	}
	c.checked = u // later checks of this run reuse it
	return u, nil
}

func (s *service) checkPassword(ctx context.Context, c *change, password string) *zerr {
	u, zerr := s.sessionUser(ctx, c, "COMMAND-Sfw3f")
	if zerr != nil {
		return zerr
	}
	if u.state() == "locked" {
		return errUserLocked()
	}
	if u.Password == "" {
		return errPasswordNotSet()
	}
	if password != u.Password {
		// The failure is recorded on the user although the call fails
		// (settle counts it and words the error with the new count).
		c.wrongPassword = u.ID
		return errWrongPassword(0)
	}
	if u.PasswordFailures != 0 {
		c.resetFailures = u.ID
	}
	c.s.PasswordAt = c.now
	return nil
}

// settle applies what the checks of c's last run did outside the session,
// once, after the session was written or a check failed (failed): a wrong
// password counts on the user (exactly once per call, whichever replica:
// the counter's update is atomic, and a user locked meanwhile answers
// locked), a right one resets the count, OTP codes are logged. It
// returns the call's error: failed, reworded for a wrong password, or the
// store's.
func (s *service) settle(ctx context.Context, c *change, failed *zerr) *zerr {
	if c == nil {
		return failed // refused before any check ran
	}
	for _, l := range c.otpLogs {
		s.log.Info(l.msg, "session", c.s.ID, "user", l.user, l.key, l.to, "code", l.code)
	}
	c.otpLogs = nil
	if c.resetFailures != "" {
		_, err := s.users.Update(ctx, c.resetFailures, func(x *user) (*user, error) {
			if x.PasswordFailures == 0 {
				return nil, errUnchanged
			}
			x.PasswordFailures = 0
			return x, nil
		})
		if err != nil && !errors.Is(err, errUnchanged) && !errors.Is(err, state.ErrNotFound) {
			return storeErr(err)
		}
	}
	if c.wrongPassword == "" {
		return failed
	}
	var locked bool
	u, err := s.users.Update(ctx, c.wrongPassword, func(x *user) (*user, error) {
		locked = x.state() == "locked"
		if locked {
			return nil, errUnchanged
		}
		x.PasswordFailures++
		if max := s.inst.Load().Lockout.MaxPasswordAttempts; max > 0 && x.PasswordFailures >= max {
			x.LockedOut = true
		}
		return x, nil
	})
	switch {
	case locked:
		return errUserLocked()
	case errors.Is(err, state.ErrNotFound):
		return errWrongPassword(0)
	case err != nil:
		return storeErr(err)
	}
	return errWrongPassword(u.PasswordFailures)
}

func (s *service) checkIntent(ctx context.Context, c *change, in *gen.CheckIDPIntent) *zerr {
	u, zerr := s.sessionUser(ctx, c, "COMMAND-Sfw3r")
	if zerr != nil {
		return zerr
	}
	// The checks run inside the intent's update, so two sessions can never
	// both consume it. This is the one effect outside the session made
	// inside its update (so that consuming is exact): marked with this
	// request's op, a re-run of the session's update accepts it.
	_, err := s.intents.Update(ctx, in.IdpIntentId, func(it *intent) (*intent, error) {
		if it.Token != in.IdpIntentToken {
			return nil, errIntentToken()
		}
		if it.Consumed && it.ConsumedBy == c.op {
			return nil, errUnchanged // this request's own, from an earlier run
		}
		if it.State != "succeeded" || it.Consumed {
			return nil, errIntentNotOK()
		}
		if !it.ExpiresAt.IsZero() && !c.now.Before(it.ExpiresAt) {
			return nil, errIntentExpired()
		}
		if it.UserID != "" {
			if it.UserID != u.ID {
				return nil, errIntentOtherUser()
			}
		} else if !slices.Contains(u.IDPLinks, idpLink{IDPID: it.IDPID, IDPUserID: it.IDPUserID}) {
			return nil, errIntentOtherUser()
		}
		it.Consumed, it.ConsumedBy = true, c.op
		return it, nil
	})
	if errors.Is(err, errUnchanged) {
		err = nil
	}
	if errors.Is(err, state.ErrNotFound) {
		return errIntentToken() // the token cannot decrypt to an unknown intent
	}
	if err != nil {
		return asZerr(err)
	}
	c.s.IntentAt = c.now
	return nil
}

func (s *service) checkTOTP(ctx context.Context, c *change, code string) *zerr {
	u, zerr := s.sessionUser(ctx, c, "COMMAND-8ie6d")
	if zerr != nil {
		return zerr
	}
	if u.TOTPSecret == "" {
		return errOTPNotReady("COMMAND-2dfg3")
	}
	if !totpValid(u.TOTPSecret, code, c.now) {
		return errTOTPInvalid()
	}
	c.s.TOTPAt = c.now
	return nil
}

// checkOTP verifies an SMS or email code against the session's challenge;
// codes are single use.
func checkOTP(c *change, ch *otpChallenge, code, missingUserID, missingCodeID string, slot **otpChallenge, at *time.Time) *zerr {
	if c.s.UserID == "" {
		return errUserIDMissing(missingUserID)
	}
	if ch == nil {
		return errCodeNotFound(missingCodeID)
	}
	if c.now.After(ch.Expiry) {
		return errCodeExpired()
	}
	if code != ch.Code {
		return errCodeInvalid()
	}
	*slot = nil
	*at = c.now
	return nil
}

func (s *service) checkRecoveryCode(ctx context.Context, c *change, code string) *zerr {
	u, zerr := s.sessionUser(ctx, c, "COMMAND-2Ki9f")
	if zerr != nil {
		return zerr
	}
	codes := u.recoveryCodes(c.op)
	if len(codes) == 0 {
		return errRecoveryNotReady()
	}
	if !slices.Contains(codes, code) {
		return errRecoveryInvalid()
	}
	// Used inside the user's update, so two calls can never both use it;
	// marked with this request's op, a re-run of the session's update
	// accepts its own use (as an intent's consumption).
	_, err := s.users.Update(ctx, u.ID, func(x *user) (*user, error) {
		if slices.Contains(x.UsedRecoveryCodes, code) {
			if x.RecoveryCodeOps[code] == c.op {
				return nil, errUnchanged
			}
			return nil, errRecoveryInvalid()
		}
		x.UsedRecoveryCodes = append(x.UsedRecoveryCodes, code)
		if x.RecoveryCodeOps == nil {
			x.RecoveryCodeOps = map[string]string{}
		}
		x.RecoveryCodeOps[code] = c.op
		return x, nil
	})
	switch {
	case errors.Is(err, state.ErrNotFound):
		return newErr(codeFailedPrecondition, "COMMAND-Df4b3", "Errors.User.NotFound")
	case err != nil && !errors.Is(err, errUnchanged):
		return asZerr(err)
	}
	c.s.RecoveryAt = c.now
	return nil
}

// checkWebAuthN accepts any well-formed assertion for one of the user's
// credentials allowed by the session's earlier challenge.
func (s *service) checkWebAuthN(ctx context.Context, c *change, data map[string]any) *zerr {
	ch := c.s.WebAuthN
	if ch == nil {
		return errNoChallenge()
	}
	if _, zerr := s.sessionUser(ctx, c, "COMMAND-eeR2e"); zerr != nil {
		return zerr
	}
	id, _ := data["id"].(string)
	if raw, ok := data["rawId"].(string); ok && id == "" {
		id = raw
	}
	resp, _ := data["response"].(map[string]any)
	if id == "" || resp == nil {
		return errWebAuthNParse()
	}
	if t, ok := data["type"].(string); ok && t != "public-key" {
		return errWebAuthNParse()
	}
	for _, k := range []string{"clientDataJSON", "authenticatorData", "signature"} {
		if v, ok := resp[k].(string); !ok || v == "" {
			return errWebAuthNParse()
		}
	}
	if !slices.ContainsFunc(ch.AllowedIDs, func(a string) bool { return sameCredentialID(a, id) }) {
		return errWebAuthNUnknown()
	}
	uv := ch.UserVerification == "required"
	if ad, err := decodeBytes(resp["authenticatorData"].(string)); err == nil && len(ad) >= 33 {
		uv = ad[32]&0x04 != 0
	}
	c.s.WebAuthNAt, c.s.WebAuthNUV, c.s.WebAuthN = c.now, uv, nil
	// ZITADEL pushes the key's sign-count change on the session aggregate
	// too, so the check costs two sequence numbers (command/session.go
	// WebAuthNChecked).
	c.events++
	return nil
}

func sameCredentialID(a, b string) bool {
	x, err1 := decodeBytes(a)
	y, err2 := decodeBytes(b)
	if err1 != nil || err2 != nil {
		return a == b
	}
	return bytes.Equal(x, y)
}

var userVerification = map[gen.UserVerificationRequirement]string{
	"USER_VERIFICATION_REQUIREMENT_REQUIRED":    "required",
	"USER_VERIFICATION_REQUIREMENT_PREFERRED":   "preferred",
	"USER_VERIFICATION_REQUIREMENT_DISCOURAGED": "discouraged",
}

// challengeWebAuthN builds PublicKeyCredentialRequestOptions for the user's
// passkeys (verification required) or U2F keys (otherwise).
func (s *service) challengeWebAuthN(ctx context.Context, c *change, req *gen.RequestChallengesWebAuthN) *zerr {
	u, zerr := s.sessionUser(ctx, c, "COMMAND-eeR2e")
	if zerr != nil {
		return zerr
	}
	if u.state() != "active" {
		return newErr(codeFailedPrecondition, "COMMAND-Df4b3", "Errors.User.NotFound")
	}
	uv := userVerification[req.UserVerificationRequirement]
	ids := u.U2F
	if uv == "required" {
		ids = u.Passkeys
	}
	if len(ids) == 0 {
		return errWebAuthNNoTokens()
	}
	buf := make([]byte, 32)
	_, _ = rand.Read(buf)
	ch := &webAuthNChallenge{
		Challenge:        base64.RawURLEncoding.EncodeToString(buf),
		RPID:             req.Domain,
		UserVerification: uv,
		AllowedIDs:       slices.Clone(ids),
	}
	allow := make([]any, 0, len(ids))
	for _, id := range ids {
		allow = append(allow, map[string]any{"id": id, "type": "public-key"})
	}
	timeout := s.inst.Load().WebAuthNTimeoutMs
	if timeout == 0 {
		timeout = 300000
	}
	opts := map[string]any{"publicKey": map[string]any{
		"allowCredentials": allow,
		"challenge":        ch.Challenge,
		"rpId":             ch.RPID,
		"timeout":          timeout,
		"userVerification": uv,
	}}
	c.s.WebAuthN = ch
	c.resp.WebAuthN = &gen.ChallengesWebAuthN{PublicKeyCredentialRequestOptions: &opts}
	return nil
}

func (s *service) challengeOTPSMS(ctx context.Context, c *change, returnCode bool) *zerr {
	u, zerr := s.sessionUser(ctx, c, "COMMAND-JKL3g")
	if zerr != nil {
		return zerr
	}
	if !u.OTPSMS {
		return errOTPNotReady("COMMAND-BJ2g3")
	}
	code := s.otpCode()
	c.s.OTPSMS = &otpChallenge{Code: code, Expiry: eventTime(c.now.Add(s.inst.Load().otpExpiry))}
	if returnCode {
		c.resp.OtpSms = &code
	} else {
		c.otpLogs = append(c.otpLogs, otpLog{"zitadel: OTP SMS code (not sent, mock)", u.ID, "phone", u.Phone, code})
	}
	return nil
}

func (s *service) challengeOTPEmail(ctx context.Context, c *change, req *gen.RequestChallengesOTPEmail) *zerr {
	u, zerr := s.sessionUser(ctx, c, "COMMAND-JK3gp")
	if zerr != nil {
		return zerr
	}
	if req.SendCode != nil && req.SendCode.UrlTemplate != nil {
		if _, err := template.New("url").Parse(*req.SendCode.UrlTemplate); err != nil {
			return newErr(codeInvalidArgument, "DOMAIN-oGh5e", "Errors.User.InvalidURLTemplate")
		}
	}
	if !u.OTPEmail {
		return errOTPNotReady("COMMAND-JKLJ3")
	}
	code := s.otpCode()
	c.s.OTPEmail = &otpChallenge{Code: code, Expiry: eventTime(c.now.Add(s.inst.Load().otpExpiry))}
	if req.ReturnCode != nil {
		c.resp.OtpEmail = &code
	} else {
		c.otpLogs = append(c.otpLogs, otpLog{"zitadel: OTP email code (not sent, mock)", u.ID, "email", u.Email, code})
	}
	return nil
}

// otpCode is a numeric code of the configured length (or the fixed code).
func (s *service) otpCode() string {
	otp := s.inst.Load().OTP
	if otp.FixedCode != "" {
		return otp.FixedCode
	}
	n := otp.Length
	if n <= 0 {
		n = 8
	}
	var b strings.Builder
	for range n {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		b.WriteByte(byte('0' + d.Int64()))
	}
	return b.String()
}

func normalizeIP(s string) string {
	ip := net.ParseIP(strings.TrimSpace(s))
	if ip == nil {
		return ""
	}
	return ip.String()
}
