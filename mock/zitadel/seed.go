package zitadel

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"time"

	"github.com/idpmock/idpmock/mock/fixture"
)

// seed is everything the fixtures define: instance settings, organizations,
// users and intents, checked against each other.
type seed struct {
	inst    instance
	orgs    map[string]org
	users   []*user
	intents []*intent
}

// loadSeed reads and checks every ZITADEL fixture; it changes nothing, so
// Reset and Reload can fail without touching the running state.
func (v *Vendor) loadSeed(fsys fs.FS) (*seed, error) {
	sd := &seed{}
	var orgs []org
	for _, f := range []struct {
		name string
		dst  any
	}{{"instance", &sd.inst}, {"orgs", &orgs}, {"users", &sd.users}, {"intents", &sd.intents}} {
		if err := fixture.Load(fsys, "zitadel", f.name, v.spec, f.dst); err != nil {
			return nil, err
		}
	}
	if err := sd.inst.defaults(); err != nil {
		return nil, fmt.Errorf("fixture zitadel/instance.json: %w", err)
	}
	sd.orgs = make(map[string]org, len(orgs))
	for i, o := range orgs {
		if _, dup := sd.orgs[o.ID]; dup {
			return nil, fmt.Errorf("fixture zitadel/orgs.json: /%d/id: organization %s appears twice", i, o.ID)
		}
		sd.orgs[o.ID] = o
	}
	ids := map[string]bool{}
	logins := map[string]string{}
	for i, u := range sd.users {
		if ids[u.ID] {
			return nil, fmt.Errorf("fixture zitadel/users.json: /%d/id: user %s appears twice", i, u.ID)
		}
		ids[u.ID] = true
		if _, ok := sd.orgs[u.OrganizationID]; !ok {
			return nil, fmt.Errorf("fixture zitadel/users.json: user %s: organizationId %q is not in orgs.json", u.ID, u.OrganizationID)
		}
		for _, n := range u.loginKeys(!sd.inst.LoginNameCaseSensitive) {
			if other, dup := logins[n]; dup {
				return nil, fmt.Errorf("fixture zitadel/users.json: login name %q belongs to users %s and %s", n, other, u.ID)
			}
			logins[n] = u.ID
		}
		if u.TOTPSecret != "" {
			if _, err := totpCode(u.TOTPSecret, time.Time{}); err != nil {
				return nil, fmt.Errorf("fixture zitadel/users.json: user %s: %w", u.ID, err)
			}
		}
	}
	intents := map[string]bool{}
	for i, it := range sd.intents {
		if intents[it.ID] {
			return nil, fmt.Errorf("fixture zitadel/intents.json: /%d/id: intent %s appears twice", i, it.ID)
		}
		intents[it.ID] = true
	}
	return sd, nil
}

// install makes sd the fixture data; s.mu must be held. Its keys are
// unique (checked by loadSeed), so only the store itself can fail (a
// shared store unavailable); settings change only once both stores took
// the records.
func (s *service) install(ctx context.Context, sd *seed) error {
	if err := s.users.Load(ctx, sd.users); err != nil {
		return fmt.Errorf("zitadel users: %w", err)
	}
	if err := s.intents.Load(ctx, sd.intents); err != nil {
		return fmt.Errorf("zitadel intents: %w", err)
	}
	inst := sd.inst
	s.inst.Store(&inst)
	s.dir.Store(newDirectory(sd))
	return nil
}

// Reset reloads users, organizations, intents and settings from fixtures
// and drops every session and login counter.
func (v *Vendor) Reset(ctx context.Context, fsys fs.FS) error {
	sd, err := v.loadSeed(fsys)
	if err != nil {
		return err
	}
	s := v.svc
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.install(ctx, sd); err != nil {
		return err
	}
	if err := s.sessions.Reset(ctx); err != nil {
		return fmt.Errorf("zitadel sessions: %w", err)
	}
	return nil
}

// Reload takes edited fixtures while running (server.Reloader): settings,
// organizations, users and intents are replaced, sessions stay. What logins
// did is carried over for users and intents that keep their id: failed
// password attempts, a lockout, used recovery codes (those still in the
// file) and consumed intents. Nothing changes if any file is invalid. A
// replica joining a shared store starts with Reload, so it keeps what the
// others did. (Between the read and the load, another replica's login
// counter change would be lost: reloads are rare and admin-driven.)
func (v *Vendor) Reload(ctx context.Context, fsys fs.FS) error {
	sd, err := v.loadSeed(fsys)
	if err != nil {
		return err
	}
	s := v.svc
	s.mu.Lock()
	defer s.mu.Unlock()
	users, err := s.users.Dump(ctx)
	if err != nil {
		return fmt.Errorf("zitadel users: %w", err)
	}
	intents, err := s.intents.Dump(ctx)
	if err != nil {
		return fmt.Errorf("zitadel intents: %w", err)
	}
	oldUsers := make(map[string]*user, len(users))
	for _, u := range users {
		oldUsers[u.ID] = u
	}
	for _, u := range sd.users {
		old := oldUsers[u.ID]
		if old == nil {
			continue
		}
		u.PasswordFailures, u.LockedOut = old.PasswordFailures, old.LockedOut
		u.UsedRecoveryCodes = slices.DeleteFunc(old.UsedRecoveryCodes, func(c string) bool { return !slices.Contains(u.RecoveryCodes, c) })
	}
	oldIntents := make(map[string]*intent, len(intents))
	for _, it := range intents {
		oldIntents[it.ID] = it
	}
	for _, it := range sd.intents {
		if old := oldIntents[it.ID]; old != nil {
			it.Consumed, it.ConsumedBy = old.Consumed, old.ConsumedBy
		}
	}
	if err := s.install(ctx, sd); err != nil {
		return err
	}
	if v.log.Enabled(ctx, slog.LevelDebug) {
		n, err := s.sessions.Total(ctx)
		if err != nil {
			return fmt.Errorf("zitadel sessions: %w", err)
		}
		v.log.DebugContext(ctx, "zitadel: fixtures reloaded", "users", len(sd.users), "intents", len(sd.intents), "sessions", n)
	}
	return nil
}

func (in *instance) defaults() error {
	if in.Query.DefaultLimit == 0 {
		in.Query.DefaultLimit = 100
	}
	if in.OTP.Length == 0 {
		in.OTP.Length = 8
	}
	in.otpExpiry = 5 * time.Minute
	if in.OTP.Expiry != "" {
		d, err := time.ParseDuration(in.OTP.Expiry)
		if err != nil || d <= 0 {
			return fmt.Errorf("otp.expiry %q: want a positive Go duration such as 5m", in.OTP.Expiry)
		}
		in.otpExpiry = d
	}
	return nil
}
