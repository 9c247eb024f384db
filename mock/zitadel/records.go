package zitadel

import (
	"encoding/json"
	"time"

	"github.com/idpmock/idpmock/mock/state"
	"github.com/idpmock/idpmock/mock/state/stores"
)

// The three record stores and how a shared store (Redis) keeps them. The
// fixture JSON of users and intents leaves out what logins change (json:"-"
// fields), so their records carry that runtime state beside the fixture
// fields through their own codecs.

// openStores opens the sessions, users and intents on b (memory when nil).
func (s *service) openStores(b *stores.Backend, budget *state.Budget) error {
	var err error
	s.sessions, err = stores.OpenStore(b, stores.Spec[*session]{
		Name: "zitadel:sessions", Key: func(x *session) string { return x.ID },
		Limit: s.max, Budget: budget, TTL: sessionTTL,
	})
	if err != nil {
		return err
	}
	s.users, err = stores.OpenStore(b, stores.Spec[*user]{
		Name: "zitadel:users", Key: func(u *user) string { return u.ID },
		Indexes: []state.Index[*user]{
			{Name: byLoginName, Keys: func(u *user) []string { return u.loginKeys(true) }},
			{Name: byToken, Keys: func(u *user) []string { return u.PersonalAccessTokens }},
		},
		Codec: userCodec{},
	})
	if err != nil {
		return err
	}
	s.intents, err = stores.OpenStore(b, stores.Spec[*intent]{
		Name: "zitadel:intents", Key: func(i *intent) string { return i.ID }, Codec: intentCodec{},
	})
	return err
}

// ttlMargin is how long Redis keeps a session past its mock expiry: expiry
// follows the mock clock, which can be moved; the TTL only keeps a
// forgotten Redis from filling up.
const (
	ttlMargin = 24 * time.Hour
	ttlMin    = time.Hour
)

// sessionTTL is the session's remaining lifetime as of its last write
// (Changed is the mock time of that write) plus the margin; sessions
// without expiry stay until deleted or evicted.
func sessionTTL(x *session) time.Duration {
	if x.Expiration.IsZero() {
		return 0
	}
	return max(x.Expiration.Sub(x.Changed)+ttlMargin, ttlMin)
}

// userFields is user without its methods, so storedUser can embed it and
// add the runtime fields under names of their own.
type userFields user

type storedUser struct {
	*userFields
	PasswordFailures  int32             `json:"passwordFailures,omitempty"`
	LockedOut         bool              `json:"lockedOut,omitempty"`
	UsedRecoveryCodes []string          `json:"usedRecoveryCodes,omitempty"`
	RecoveryCodeOps   map[string]string `json:"recoveryCodeOps,omitempty"`
}

// userCodec stores a user whole: fixture fields and login counters.
type userCodec struct{}

func (userCodec) Marshal(u *user) ([]byte, error) {
	return json.Marshal(storedUser{userFields: (*userFields)(u), PasswordFailures: u.PasswordFailures, LockedOut: u.LockedOut,
		UsedRecoveryCodes: u.UsedRecoveryCodes, RecoveryCodeOps: u.RecoveryCodeOps})
}

func (userCodec) Unmarshal(b []byte) (*user, error) {
	u := &user{}
	w := storedUser{userFields: (*userFields)(u)}
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, err
	}
	u.PasswordFailures, u.LockedOut, u.UsedRecoveryCodes, u.RecoveryCodeOps = w.PasswordFailures, w.LockedOut, w.UsedRecoveryCodes, w.RecoveryCodeOps
	return u, nil
}

type intentFields intent

type storedIntent struct {
	*intentFields
	Consumed   bool   `json:"consumed,omitempty"`
	ConsumedBy string `json:"consumedBy,omitempty"`
}

// intentCodec stores an intent whole: fixture fields and its consumption.
type intentCodec struct{}

func (intentCodec) Marshal(i *intent) ([]byte, error) {
	return json.Marshal(storedIntent{intentFields: (*intentFields)(i), Consumed: i.Consumed, ConsumedBy: i.ConsumedBy})
}

func (intentCodec) Unmarshal(b []byte) (*intent, error) {
	i := &intent{}
	w := storedIntent{intentFields: (*intentFields)(i)}
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, err
	}
	i.Consumed, i.ConsumedBy = w.Consumed, w.ConsumedBy
	return i, nil
}

// directory is the fixture side of the users, read-only between Reset and
// Reload: who owns a personal access token (a request's caller) and the
// names a session renders. These never change by request, so reading them
// costs no store round trip. On a shared store each replica builds its own
// from its fixture files, which replicas share.
type directory struct {
	orgs  map[string]org
	byID  map[string]*user
	byPAT map[string]string // token → user id
}

func newDirectory(sd *seed) *directory {
	d := &directory{orgs: sd.orgs, byID: make(map[string]*user, len(sd.users)), byPAT: map[string]string{}}
	for _, u := range sd.users {
		d.byID[u.ID] = u.Clone()
		for _, t := range u.PersonalAccessTokens {
			if cur, dup := d.byPAT[t]; !dup || u.ID < cur { // the lowest id, as the index lookup had it
				d.byPAT[t] = u.ID
			}
		}
	}
	return d
}
