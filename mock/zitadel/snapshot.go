package zitadel

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/idpmock/idpmock/mock/fixture"
	"github.com/idpmock/idpmock/mock/state"
)

// stateDoc is the vendor's state document (GET/PUT /__mock/state,
// fixtures/schema/zitadel/state.schema.json): what requests changed, not
// what the fixtures define. uint64 values are strings so the document
// survives a round trip through float64 JSON decoders.
type stateDoc struct {
	Sessions        []storedSession `json:"sessions"`
	Users           []userCounters  `json:"users,omitempty"`
	ConsumedIntents []string        `json:"consumedIntents,omitempty"`
	LastID          string          `json:"lastId,omitempty"`
	// ProcessedSequence is read from older snapshots and ignored: ZITADEL
	// reports no processed sequence (see service.list).
	ProcessedSequence string `json:"processedSequence,omitempty"`
}

type userCounters struct {
	ID                string   `json:"id"`
	PasswordFailures  int32    `json:"passwordFailures,omitempty"`
	LockedOut         bool     `json:"lockedOut,omitempty"`
	UsedRecoveryCodes []string `json:"usedRecoveryCodes,omitempty"`
}

type storedSession struct {
	ID             string            `json:"id"`
	CreationDate   time.Time         `json:"creationDate"`
	ChangeDate     time.Time         `json:"changeDate"`
	Sequence       string            `json:"sequence"`
	Token          string            `json:"token"`
	CreatorID      string            `json:"creatorId,omitempty"`
	ExpirationDate *time.Time        `json:"expirationDate,omitempty"`
	Terminated     bool              `json:"terminated,omitempty"`
	Ghost          bool              `json:"ghost,omitempty"`
	UserAgent      *storedUserAgent  `json:"userAgent,omitempty"`
	Metadata       map[string][]byte `json:"metadata,omitempty"`
	Factors        *storedFactors    `json:"factors,omitempty"`
	Challenges     *storedChallenges `json:"challenges,omitempty"`
}

type storedUserAgent struct {
	FingerprintID *string             `json:"fingerprintId,omitempty"`
	IP            *string             `json:"ip,omitempty"`
	Description   *string             `json:"description,omitempty"`
	Header        map[string][]string `json:"header,omitempty"`
}

type storedFactors struct {
	User         storedUserFactor `json:"user"`
	Password     *verified        `json:"password,omitempty"`
	Intent       *verified        `json:"intent,omitempty"`
	TOTP         *verified        `json:"totp,omitempty"`
	OTPSMS       *verified        `json:"otpSms,omitempty"`
	OTPEmail     *verified        `json:"otpEmail,omitempty"`
	RecoveryCode *verified        `json:"recoveryCode,omitempty"`
	WebAuthN     *storedWebAuthN  `json:"webAuthN,omitempty"`
}

type storedUserFactor struct {
	ID             string    `json:"id"`
	OrganizationID string    `json:"organizationId"`
	VerifiedAt     time.Time `json:"verifiedAt"`
}

type verified struct {
	VerifiedAt time.Time `json:"verifiedAt"`
}

type storedWebAuthN struct {
	VerifiedAt   time.Time `json:"verifiedAt"`
	UserVerified bool      `json:"userVerified,omitempty"`
}

type storedChallenges struct {
	WebAuthN *storedWebAuthNChallenge `json:"webAuthN,omitempty"`
	OTPSMS   *storedOTP               `json:"otpSms,omitempty"`
	OTPEmail *storedOTP               `json:"otpEmail,omitempty"`
}

type storedWebAuthNChallenge struct {
	Challenge        string   `json:"challenge"`
	RPID             string   `json:"rpId"`
	UserVerification string   `json:"userVerification"`
	AllowedIDs       []string `json:"allowedCredentialIds"`
}

type storedOTP struct {
	Code      string    `json:"code"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// SnapshotState returns sessions, login counters, consumed intents and the
// id and sequence counters, with absolute times (server.Stateful).
func (v *Vendor) SnapshotState(ctx context.Context) (json.RawMessage, error) {
	s := v.svc
	s.mu.Lock()
	defer s.mu.Unlock()
	sessions, err := s.sessions.List(ctx, nil)
	if err != nil {
		return nil, err
	}
	users, err := s.users.List(ctx, func(u *user) bool {
		return u.PasswordFailures != 0 || u.LockedOut || len(u.UsedRecoveryCodes) > 0
	})
	if err != nil {
		return nil, err
	}
	intents, err := s.intents.List(ctx, func(i *intent) bool { return i.Consumed })
	if err != nil {
		return nil, err
	}
	slices.SortFunc(sessions, func(a, b *session) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	doc := stateDoc{Sessions: make([]storedSession, 0, len(sessions))}
	for _, x := range sessions {
		doc.Sessions = append(doc.Sessions, toStored(x))
	}
	for _, u := range users {
		doc.Users = append(doc.Users, userCounters{ID: u.ID, PasswordFailures: u.PasswordFailures, LockedOut: u.LockedOut, UsedRecoveryCodes: u.UsedRecoveryCodes})
	}
	for _, i := range intents {
		doc.ConsumedIntents = append(doc.ConsumedIntents, i.ID)
	}
	s.idMu.Lock()
	last, shared := s.lastID, s.idStep > 1
	s.idMu.Unlock()
	if shared {
		// Each replica mints its own ids; the document says what the
		// shared state holds, whichever replica answers: the greatest
		// minted session id (restoring it only raises the restoring
		// replica's counter; the node part keeps replicas apart).
		last = 0
		for _, x := range sessions {
			if n, err := strconv.ParseUint(x.ID, 10, 64); err == nil && !x.Ghost {
				last = max(last, n)
			}
		}
	}
	if last != 0 {
		doc.LastID = strconv.FormatUint(last, 10)
	}
	return json.Marshal(doc)
}

// RestoreState replaces the state with a snapshot (server.Stateful). The
// document is checked against its schema and against the fixtures (users
// and intents it names must exist) before anything changes.
func (v *Vendor) RestoreState(ctx context.Context, raw json.RawMessage) error {
	if err := fixture.ValidateState("zitadel", "state", v.spec, raw); err != nil {
		return err
	}
	var doc stateDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("zitadel state: %w", err)
	}
	sessions, lastID, err := fromStored(doc)
	if err != nil {
		return err
	}
	if doc.ProcessedSequence != "" {
		if _, err := strconv.ParseUint(doc.ProcessedSequence, 10, 64); err != nil {
			return fmt.Errorf("zitadel state: /processedSequence: %w", err)
		}
	}
	// The last session event (ListSessions' timestamp) is the latest
	// change among the sessions: service.list derives it from them.

	s := v.svc
	s.mu.Lock()
	defer s.mu.Unlock()
	users, err := s.users.Dump(ctx)
	if err != nil {
		return err
	}
	byID := make(map[string]*user, len(users))
	for _, u := range users {
		u.PasswordFailures, u.LockedOut, u.UsedRecoveryCodes, u.RecoveryCodeOps = 0, false, nil, nil
		byID[u.ID] = u
	}
	seen := map[string]bool{}
	for i, c := range doc.Users {
		where := fmt.Sprintf("zitadel state: /users/%d", i)
		u, ok := byID[c.ID]
		if !ok {
			return fmt.Errorf("%s/id: user %s is not in users.json", where, c.ID)
		}
		if seen[c.ID] {
			return fmt.Errorf("%s/id: user %s appears twice", where, c.ID)
		}
		seen[c.ID] = true
		for j, code := range c.UsedRecoveryCodes {
			if !slices.Contains(u.RecoveryCodes, code) {
				return fmt.Errorf("%s/usedRecoveryCodes/%d: not one of user %s's recovery codes", where, j, c.ID)
			}
		}
		u.PasswordFailures, u.LockedOut, u.UsedRecoveryCodes = c.PasswordFailures, c.LockedOut, slices.Clone(c.UsedRecoveryCodes)
	}
	intents, err := s.intents.Dump(ctx)
	if err != nil {
		return err
	}
	consumed := map[string]bool{}
	for _, id := range doc.ConsumedIntents {
		consumed[id] = true
	}
	for _, it := range intents {
		it.Consumed, it.ConsumedBy = consumed[it.ID], ""
		delete(consumed, it.ID)
	}
	if len(consumed) > 0 {
		return fmt.Errorf("zitadel state: /consumedIntents: %v not in intents.json", slices.Sorted(maps.Keys(consumed)))
	}

	if s.max > 0 && len(sessions) > s.max {
		return fmt.Errorf("zitadel state: /sessions: %d sessions, idpmock stores at most %d per instance (--max-sessions)", len(sessions), s.max)
	}
	// ids are checked unique by fromStored; the process-wide cap may refuse.
	if err := s.sessions.Load(ctx, sessions); err != nil {
		if errors.Is(err, state.ErrUnavailable) {
			return err
		}
		return fmt.Errorf("zitadel state: /sessions: %w (--max-total-sessions)", err)
	}
	if err := s.users.Load(ctx, users); err != nil {
		return err
	}
	if err := s.intents.Load(ctx, intents); err != nil {
		return err
	}
	s.idMu.Lock()
	s.lastID = lastID
	s.idMu.Unlock()
	return nil
}

func toStored(x *session) storedSession {
	st := storedSession{
		ID:           x.ID,
		CreationDate: x.Created.UTC(),
		ChangeDate:   x.Changed.UTC(),
		Sequence:     strconv.FormatUint(x.Sequence, 10),
		Token:        x.TokenID,
		CreatorID:    x.CreatorID,
		Terminated:   x.Terminated,
		Ghost:        x.Ghost,
	}
	if !x.Expiration.IsZero() {
		e := x.Expiration.UTC()
		st.ExpirationDate = &e
	}
	if ua := x.UserAgent; ua != nil {
		st.UserAgent = &storedUserAgent{FingerprintID: ua.FingerprintID, IP: ua.IP, Description: ua.Description, Header: ua.Header}
	}
	if len(x.Metadata) > 0 {
		st.Metadata = x.Metadata
	}
	if x.UserID != "" && !x.UserCheckedAt.IsZero() {
		f := &storedFactors{User: storedUserFactor{ID: x.UserID, OrganizationID: x.UserOrgID, VerifiedAt: x.UserCheckedAt.UTC()}}
		f.Password, f.Intent, f.TOTP = verifiedAt(x.PasswordAt), verifiedAt(x.IntentAt), verifiedAt(x.TOTPAt)
		f.OTPSMS, f.OTPEmail, f.RecoveryCode = verifiedAt(x.OTPSMSAt), verifiedAt(x.OTPEmailAt), verifiedAt(x.RecoveryAt)
		if !x.WebAuthNAt.IsZero() {
			f.WebAuthN = &storedWebAuthN{VerifiedAt: x.WebAuthNAt.UTC(), UserVerified: x.WebAuthNUV}
		}
		st.Factors = f
	}
	if x.WebAuthN != nil || x.OTPSMS != nil || x.OTPEmail != nil {
		ch := &storedChallenges{}
		if w := x.WebAuthN; w != nil {
			ch.WebAuthN = &storedWebAuthNChallenge{Challenge: w.Challenge, RPID: w.RPID, UserVerification: w.UserVerification, AllowedIDs: slices.Clone(w.AllowedIDs)}
			if ch.WebAuthN.AllowedIDs == nil {
				ch.WebAuthN.AllowedIDs = []string{}
			}
		}
		ch.OTPSMS, ch.OTPEmail = storedOTPOf(x.OTPSMS), storedOTPOf(x.OTPEmail)
		st.Challenges = ch
	}
	return st
}

func verifiedAt(t time.Time) *verified {
	if t.IsZero() {
		return nil
	}
	return &verified{VerifiedAt: t.UTC()}
}

func storedOTPOf(o *otpChallenge) *storedOTP {
	if o == nil {
		return nil
	}
	return &storedOTP{Code: o.Code, ExpiresAt: o.Expiry.UTC()}
}

// fromStored turns a schema-valid document's sessions into records (times
// truncated to microseconds, as the mock's own are) and
// finds the id counter: at least the document's, and past every numeric
// session id so new ids never collide with restored ones.
func fromStored(doc stateDoc) ([]*session, uint64, error) {
	var lastID uint64
	if doc.LastID != "" {
		n, err := strconv.ParseUint(doc.LastID, 10, 64)
		if err != nil {
			return nil, 0, fmt.Errorf("zitadel state: /lastId: %w", err)
		}
		lastID = n
	}
	ids := map[string]bool{}
	out := make([]*session, 0, len(doc.Sessions))
	for i, st := range doc.Sessions {
		where := fmt.Sprintf("zitadel state: /sessions/%d", i)
		if ids[st.ID] {
			return nil, 0, fmt.Errorf("%s/id: session %s appears twice", where, st.ID)
		}
		ids[st.ID] = true
		// A ghost's id came from a client, not from the generator.
		if n, err := strconv.ParseUint(st.ID, 10, 64); err == nil && !st.Ghost {
			lastID = max(lastID, n)
		}
		seq, err := strconv.ParseUint(st.Sequence, 10, 64)
		if err != nil {
			return nil, 0, fmt.Errorf("%s/sequence: %w", where, err)
		}
		if st.ChangeDate.Before(st.CreationDate) {
			return nil, 0, fmt.Errorf("%s/changeDate: before creationDate", where)
		}
		x := &session{
			ID: st.ID, Created: eventTime(st.CreationDate), Changed: eventTime(st.ChangeDate), Sequence: seq,
			TokenID: st.Token, CreatorID: st.CreatorID, Terminated: st.Terminated, Ghost: st.Ghost,
			Metadata: map[string][]byte{},
		}
		if st.ExpirationDate != nil {
			x.Expiration = eventTime(*st.ExpirationDate)
		}
		if ua := st.UserAgent; ua != nil {
			x.UserAgent = &userAgent{FingerprintID: ua.FingerprintID, IP: ua.IP, Description: ua.Description, Header: ua.Header}
		}
		for k, v := range st.Metadata {
			if len(v) == 0 {
				return nil, 0, fmt.Errorf("%s/metadata/%s: empty values are deletions, not stored", where, k)
			}
			x.Metadata[k] = v
		}
		if f := st.Factors; f != nil {
			x.UserID, x.UserOrgID, x.UserCheckedAt = f.User.ID, f.User.OrganizationID, eventTime(f.User.VerifiedAt)
			x.PasswordAt, x.IntentAt, x.TOTPAt = timeOf(f.Password), timeOf(f.Intent), timeOf(f.TOTP)
			x.OTPSMSAt, x.OTPEmailAt, x.RecoveryAt = timeOf(f.OTPSMS), timeOf(f.OTPEmail), timeOf(f.RecoveryCode)
			if f.WebAuthN != nil {
				x.WebAuthNAt, x.WebAuthNUV = eventTime(f.WebAuthN.VerifiedAt), f.WebAuthN.UserVerified
			}
		}
		if ch := st.Challenges; ch != nil {
			if x.UserID == "" {
				return nil, 0, fmt.Errorf("%s/challenges: a challenge needs a checked user (factors.user)", where)
			}
			if w := ch.WebAuthN; w != nil {
				x.WebAuthN = &webAuthNChallenge{Challenge: w.Challenge, RPID: w.RPID, UserVerification: w.UserVerification, AllowedIDs: slices.Clone(w.AllowedIDs)}
			}
			x.OTPSMS, x.OTPEmail = otpOf(ch.OTPSMS), otpOf(ch.OTPEmail)
		}
		out = append(out, x)
	}
	return out, lastID, nil
}

func timeOf(v *verified) time.Time {
	if v == nil {
		return time.Time{}
	}
	return eventTime(v.VerifiedAt)
}

func otpOf(o *storedOTP) *otpChallenge {
	if o == nil {
		return nil
	}
	return &otpChallenge{Code: o.Code, Expiry: eventTime(o.ExpiresAt)}
}
