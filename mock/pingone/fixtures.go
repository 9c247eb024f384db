package pingone

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"time"

	"github.com/google/uuid"

	gen "github.com/idpmock/idpmock/gen/pingone"
	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/fixture"
)

// seed is the fixture data that is not sessions: which environments and
// users exist. Sessions go to the store.
type seed struct {
	envs  map[uuid.UUID]bool
	users map[uuid.UUID]uuid.UUID // user → environment
}

// environmentsFile is fixtures/pingone/environments.json.
type environmentsFile struct {
	Environments []struct {
		ID    uuid.UUID `json:"id"`
		Users []struct {
			ID uuid.UUID `json:"id"`
		} `json:"users"`
	} `json:"environments"`
}

// sessionsFile is fixtures/pingone/sessions.json, and also the vendor's
// state document (GET/PUT /__mock/state). Only what a caller could set is
// kept, plus id, createdAt and the location history; browser, expiresAt
// and the like are derived as for any session. In fixtures, missing
// createdAt/activeAt mean "when the mock starts", so a seeded session is
// alive whenever the mock runs.
type sessionsFile struct {
	Sessions []storedSession `json:"sessions"`
}

type storedSession struct {
	ID                   uuid.UUID              `json:"id"`
	Environment          reference              `json:"environment"`
	User                 *reference             `json:"user,omitempty"`
	Token                string                 `json:"token,omitempty"`
	CreatedAt            *time.Time             `json:"createdAt,omitempty"`
	ActiveAt             *time.Time             `json:"activeAt,omitempty"`
	IdleTimeoutInMinutes *int64                 `json:"idleTimeoutInMinutes,omitempty"`
	UserAgent            string                 `json:"userAgent"`
	LastSignOn           *gen.LastSignOnRequest `json:"lastSignOn,omitempty"`
	Locations            []gen.Location         `json:"locations,omitempty"`
}

type reference struct {
	ID uuid.UUID `json:"id"`
}

// loadSeed reads and checks the PingOne fixtures.
func (v *Vendor) loadSeed(ctx context.Context, fsys fs.FS) (*seed, []*session, error) {
	var ef environmentsFile
	if err := fixture.Load(fsys, v.Name(), "environments", v.spec, &ef); err != nil {
		return nil, nil, err
	}
	sd := &seed{envs: map[uuid.UUID]bool{}, users: map[uuid.UUID]uuid.UUID{}}
	for _, e := range ef.Environments {
		sd.envs[e.ID] = true
		for _, u := range e.Users {
			sd.users[u.ID] = e.ID
		}
	}
	var sf sessionsFile
	if err := fixture.Load(fsys, v.Name(), "sessions", v.spec, &sf); err != nil {
		return nil, nil, err
	}
	sessions, err := v.fromStored(ctx, sf, "fixture pingone/sessions.json", sd)
	if err != nil {
		return nil, nil, err
	}
	return sd, sessions, nil
}

// fromStored turns stored sessions into records. With a seed, every
// environment and user must be one of the seed's.
func (v *Vendor) fromStored(ctx context.Context, sf sessionsFile, file string, sd *seed) ([]*session, error) {
	now := clock.Now(ctx, v.clock)
	tokens := map[string]bool{}
	ids := map[uuid.UUID]bool{}
	out := make([]*session, 0, len(sf.Sessions))
	for i, f := range sf.Sessions {
		where := fmt.Sprintf("%s: /sessions/%d", file, i)
		if sd != nil && !sd.envs[f.Environment.ID] {
			return nil, fmt.Errorf("%s/environment/id: environment %s is not in environments.json", where, f.Environment.ID)
		}
		if ids[f.ID] {
			return nil, fmt.Errorf("%s/id: session %s appears twice", where, f.ID)
		}
		ids[f.ID] = true
		s := &session{
			ID:          f.ID,
			EnvID:       f.Environment.ID,
			Token:       f.Token,
			CreatedAt:   now,
			ActiveAt:    now,
			IdleMinutes: defaultIdleMinutes,
			UserAgent:   f.UserAgent,
			Locations:   f.Locations,
			Seq:         nextSeq(),
			WrittenAt:   now,
		}
		if f.User != nil && f.User.ID != uuid.Nil {
			if env, ok := sd.userEnv(f.User.ID); sd != nil && (!ok || env != f.Environment.ID) {
				return nil, fmt.Errorf("%s/user/id: user %s is not a user of environment %s in environments.json", where, f.User.ID, f.Environment.ID)
			}
			s.UserID = f.User.ID
			s.SignOn = toSignOn(f.LastSignOn)
		}
		if f.CreatedAt != nil {
			s.CreatedAt = f.CreatedAt.UTC()
		}
		if f.ActiveAt != nil {
			s.ActiveAt = f.ActiveAt.UTC()
		}
		if f.IdleTimeoutInMinutes != nil {
			s.IdleMinutes = *f.IdleTimeoutInMinutes
		}
		if !s.renderable() {
			return nil, fmt.Errorf("%s: activeAt plus idleTimeoutInMinutes is past %s, which RFC 3339 cannot carry", where, timestamp(lastRenderable))
		}
		if len(s.Locations) > maxLocations {
			return nil, fmt.Errorf("%s/locations: at most %d locations are kept", where, maxLocations)
		}
		if s.Token != "" {
			k := tokenKey(s.EnvID, s.Token)
			if tokens[k] {
				return nil, fmt.Errorf("%s/token: token is already used by another session of the environment", where)
			}
			tokens[k] = true
		}
		out = append(out, s)
	}
	return out, nil
}

func (sd *seed) userEnv(user uuid.UUID) (uuid.UUID, bool) {
	if sd == nil {
		return uuid.Nil, false
	}
	env, ok := sd.users[user]
	return env, ok
}

// toStored is the inverse of fromStored, for snapshots.
func toStored(s *session) storedSession {
	created, active, idle := s.CreatedAt, s.ActiveAt, s.IdleMinutes
	st := storedSession{
		ID:                   s.ID,
		Environment:          reference{ID: s.EnvID},
		Token:                s.Token,
		CreatedAt:            &created,
		ActiveAt:             &active,
		IdleTimeoutInMinutes: &idle,
		UserAgent:            s.UserAgent,
		Locations:            s.Locations,
	}
	if s.UserID != uuid.Nil {
		st.User = &reference{ID: s.UserID}
	}
	if so := s.SignOn; so != nil {
		ls := &gen.LastSignOnRequest{
			Authenticators:    so.Authenticators,
			RemoteIp:          so.RemoteIP,
			WithAuthenticator: make(map[string]gen.AuthenticatorSignOnRequest, len(so.With)),
		}
		for name, w := range so.With {
			ls.WithAuthenticator[name] = gen.AuthenticatorSignOnRequest{At: w.At, Policy: w.Policy}
		}
		st.LastSignOn = ls
	}
	return st
}

// SnapshotState returns every session, in the sessions fixture format
// with all times absolute (server.Stateful).
func (v *Vendor) SnapshotState(ctx context.Context) (json.RawMessage, error) {
	all, err := v.sessions.Dump(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b *session) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
	sf := sessionsFile{Sessions: make([]storedSession, 0, len(all))}
	for _, s := range all {
		sf.Sessions = append(sf.Sessions, toStored(s))
	}
	return json.Marshal(sf)
}

// RestoreState replaces every session with those of a snapshot, checked
// against the sessions fixture schema first (server.Stateful). Sessions
// may be in any environment, as the API accepts any by default.
func (v *Vendor) RestoreState(ctx context.Context, doc json.RawMessage) error {
	if err := fixture.ValidateState(v.Name(), "sessions", v.spec, doc); err != nil {
		return err
	}
	var sf sessionsFile
	if err := json.Unmarshal(doc, &sf); err != nil {
		return fmt.Errorf("pingone state: %w", err)
	}
	var sd *seed
	if v.opts.KnownEnvironmentsOnly {
		sd = v.seed.Load()
	}
	sessions, err := v.fromStored(ctx, sf, "pingone state", sd)
	if err != nil {
		return err
	}
	if err := v.overCaps(sessions); err != nil {
		return fmt.Errorf("pingone state: /sessions: %w", err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.sessions.Load(ctx, sessions); err != nil {
		return fmt.Errorf("pingone state: /sessions: %w (--max-total-sessions)", err)
	}
	return nil
}

// Reload takes edited fixtures while running (server.Reloader): the known
// environments and users change, live sessions stay. Nothing changes if
// any file is invalid.
func (v *Vendor) Reload(ctx context.Context, fsys fs.FS) error {
	sd, _, err := v.loadSeed(ctx, fsys)
	if err != nil {
		return err
	}
	v.seed.Store(sd)
	return nil
}

// overCaps names the first cap sessions break: the store's (see New)
// would refuse them with a bare ErrFull.
func (v *Vendor) overCaps(sessions []*session) error {
	perEnv, perUser := map[uuid.UUID]int{}, map[string]int{}
	for _, s := range sessions {
		if perEnv[s.EnvID]++; v.max > 0 && perEnv[s.EnvID] > v.max {
			return fmt.Errorf("more than %d sessions in environment %s (--max-sessions)", v.max, s.EnvID)
		}
		if s.UserID == uuid.Nil {
			continue
		}
		k := userKey(s.EnvID, s.UserID)
		if perUser[k]++; perUser[k] > maxSessionsPerUser {
			return fmt.Errorf("more than %d sessions of user %s in environment %s (PingOne keeps %d)", maxSessionsPerUser, s.UserID, s.EnvID, maxSessionsPerUser)
		}
	}
	return nil
}
