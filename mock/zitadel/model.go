package zitadel

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// instance is fixtures/zitadel/instance.json: settings ZITADEL keeps per
// instance, and the mock's knobs for the open questions.
type instance struct {
	ID string `json:"id"`
	// DefaultCallerID is the user id of a caller whose bearer token is no
	// user's personal access token (creatorQuery, sessions' creator).
	DefaultCallerID string `json:"defaultCallerId"`
	Lockout         struct {
		// MaxPasswordAttempts locks a user after that many wrong passwords in
		// a row; 0 never locks (ZITADEL's default policy).
		MaxPasswordAttempts int32 `json:"maxPasswordAttempts"`
	} `json:"lockout"`
	Query struct {
		DefaultLimit uint64 `json:"defaultLimit"`
		MaxLimit     uint64 `json:"maxLimit"`
	} `json:"query"`
	OTP struct {
		Length int    `json:"length"`
		Expiry string `json:"expiry"` // duration, e.g. "5m"
		// FixedCode, when set, is every SMS/email code, so a code that is
		// "sent" (not returned) can still be typed in.
		FixedCode string `json:"fixedCode,omitempty"`
	} `json:"otp"`
	WebAuthNTimeoutMs int `json:"webAuthNTimeoutMs"`
	// LoginNameCaseSensitive switches off the case-insensitive login-name
	// match the proto documents (one team saw case-sensitive behaviour).
	LoginNameCaseSensitive bool `json:"loginNameCaseSensitive,omitempty"`

	otpExpiry time.Duration
}

// org is one organization of orgs.json.
type org struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	PrimaryDomain string   `json:"primaryDomain"`
	Domains       []string `json:"domains,omitempty"`
}

// user is one seeded human user of users.json, plus the counters a login
// changes (failed attempts, lock, used recovery codes). The counters are
// kept apart from the fixture fields so a fixture reload can replace the
// latter and carry the former over.
type user struct {
	ID                   string    `json:"id"`
	OrganizationID       string    `json:"organizationId"`
	LoginNames           []string  `json:"loginNames"` // the first is the preferred one
	DisplayName          string    `json:"displayName"`
	State                string    `json:"state"` // active, initial, inactive, locked
	Password             string    `json:"password,omitempty"`
	Email                string    `json:"email,omitempty"`
	Phone                string    `json:"phone,omitempty"`
	TOTPSecret           string    `json:"totpSecret,omitempty"` // base32, RFC 6238 SHA1/6 digits/30 s
	OTPSMS               bool      `json:"otpSms,omitempty"`
	OTPEmail             bool      `json:"otpEmail,omitempty"`
	Passkeys             []string  `json:"passkeys,omitempty"` // credential ids (base64url), user verification required
	U2F                  []string  `json:"u2f,omitempty"`      // credential ids for second-factor keys
	RecoveryCodes        []string  `json:"recoveryCodes,omitempty"`
	IDPLinks             []idpLink `json:"idpLinks,omitempty"`
	PersonalAccessTokens []string  `json:"personalAccessTokens,omitempty"`

	PasswordFailures  int32    `json:"-"`
	LockedOut         bool     `json:"-"` // locked by the lockout policy
	UsedRecoveryCodes []string `json:"-"` // recovery codes are single use
	// RecoveryCodeOps names the request that used each code (see
	// change.op); not in state documents, dropped by Reload.
	RecoveryCodeOps map[string]string `json:"-"`
}

func (u *user) Clone() *user {
	c := *u
	c.LoginNames = slices.Clone(u.LoginNames)
	c.Passkeys = slices.Clone(u.Passkeys)
	c.U2F = slices.Clone(u.U2F)
	c.RecoveryCodes = slices.Clone(u.RecoveryCodes)
	c.IDPLinks = slices.Clone(u.IDPLinks)
	c.PersonalAccessTokens = slices.Clone(u.PersonalAccessTokens)
	c.UsedRecoveryCodes = slices.Clone(u.UsedRecoveryCodes)
	c.RecoveryCodeOps = maps.Clone(u.RecoveryCodeOps)
	return &c
}

// state is the user's state: the fixture's, or locked by the lockout policy.
func (u *user) state() string {
	if u.LockedOut {
		return "locked"
	}
	return u.State
}

// enabled is ZITADEL's UserState.IsEnabled: active or initial.
func (u *user) enabled() bool { s := u.state(); return s == "active" || s == "initial" }

// recoveryCodes are the codes request op may use: those not used yet, and
// those op itself used (a re-run of its update).
func (u *user) recoveryCodes(op string) []string {
	return slices.DeleteFunc(slices.Clone(u.RecoveryCodes), func(c string) bool {
		return slices.Contains(u.UsedRecoveryCodes, c) && u.RecoveryCodeOps[c] != op
	})
}

func (u *user) preferredLoginName() string {
	if len(u.LoginNames) == 0 {
		return ""
	}
	return u.LoginNames[0]
}

// loginKeys are the index keys the login-name lookup uses.
func (u *user) loginKeys(fold bool) []string {
	out := make([]string, 0, len(u.LoginNames))
	for _, n := range u.LoginNames {
		if fold {
			n = strings.ToLower(n)
		}
		out = append(out, n)
	}
	return out
}

// idpLink links a user to an account at an external identity provider.
type idpLink struct {
	IDPID     string `json:"idpId"`
	IDPUserID string `json:"idpUserId"`
}

// intent is one IdP intent of intents.json, as left by an IdP callback.
type intent struct {
	ID        string    `json:"id"`
	Token     string    `json:"token"`
	State     string    `json:"state"` // succeeded, started, failed
	UserID    string    `json:"userId,omitempty"`
	IDPID     string    `json:"idpId"`
	IDPUserID string    `json:"idpUserId"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
	Consumed  bool      `json:"-"`
	// ConsumedBy is the request that consumed it (session id and a nonce),
	// so a re-run of that request's session update accepts its own
	// consumption; empty when restored from a state document.
	ConsumedBy string `json:"-"`
}

func (i *intent) Clone() *intent { c := *i; return &c }

// session is the stored state of one session.
type session struct {
	ID         string
	Created    time.Time
	Changed    time.Time
	Sequence   uint64
	TokenID    string // the current token; every change mints a new one
	CreatorID  string
	UserAgent  *userAgent
	Metadata   map[string][]byte
	Expiration time.Time // zero: never expires
	Terminated bool      // deleted; kept so a second delete stays idempotent
	// Ghost: SetSession events for an id that was never created (no
	// session.added); invisible to Get and List, see service.set.
	Ghost bool

	UserID        string
	UserOrgID     string
	UserCheckedAt time.Time
	PasswordAt    time.Time
	IntentAt      time.Time
	TOTPAt        time.Time
	OTPSMSAt      time.Time
	OTPEmailAt    time.Time
	RecoveryAt    time.Time
	WebAuthNAt    time.Time
	WebAuthNUV    bool

	WebAuthN *webAuthNChallenge
	OTPSMS   *otpChallenge
	OTPEmail *otpChallenge
}

type userAgent struct {
	FingerprintID *string
	IP            *string
	Description   *string
	Header        map[string][]string
}

type webAuthNChallenge struct {
	Challenge        string
	RPID             string
	UserVerification string // required, preferred, discouraged
	AllowedIDs       []string
}

type otpChallenge struct {
	Code   string
	Expiry time.Time
}

func (s *session) Clone() *session {
	c := *s
	if s.UserAgent != nil {
		ua := *s.UserAgent
		ua.Header = make(map[string][]string, len(s.UserAgent.Header))
		for k, v := range s.UserAgent.Header {
			ua.Header[k] = slices.Clone(v)
		}
		c.UserAgent = &ua
	}
	c.Metadata = make(map[string][]byte, len(s.Metadata))
	for k, v := range s.Metadata {
		c.Metadata[k] = slices.Clone(v)
	}
	if s.WebAuthN != nil {
		w := *s.WebAuthN
		w.AllowedIDs = slices.Clone(s.WebAuthN.AllowedIDs)
		c.WebAuthN = &w
	}
	if s.OTPSMS != nil {
		o := *s.OTPSMS
		c.OTPSMS = &o
	}
	if s.OTPEmail != nil {
		o := *s.OTPEmail
		c.OTPEmail = &o
	}
	return &c
}

// expired reports whether the session's lifetime is over at now: strictly
// after the expiration, as command/session_model.go CheckNotInvalidated
// compares.
func (s *session) expired(now time.Time) bool {
	return !s.Expiration.IsZero() && s.Expiration.Before(now)
}
