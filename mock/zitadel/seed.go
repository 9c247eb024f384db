package zitadel

import (
	"context"
	"fmt"
	"io/fs"
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

// install makes sd the fixture data; s.mu must be held. Its stores hold
// unique keys (checked by loadSeed or taken from a store), so Restore
// cannot fail.
func (s *service) install(sd *seed) {
	_ = s.users.Restore(sd.users)
	_ = s.intents.Restore(sd.intents)
	inst := sd.inst
	s.inst.Store(&inst)
	s.orgs = sd.orgs
}

// Reset reloads users, organizations, intents and settings from fixtures
// and drops every session and login counter.
func (v *Vendor) Reset(_ context.Context, fsys fs.FS) error {
	sd, err := v.loadSeed(fsys)
	if err != nil {
		return err
	}
	s := v.svc
	s.mu.Lock()
	defer s.mu.Unlock()
	s.install(sd)
	s.sessions.Clear()
	s.lastEvent = time.Time{}
	return nil
}

// Reload takes edited fixtures while running (server.Reloader): settings,
// organizations, users and intents are replaced, sessions stay. What logins
// did is carried over for users and intents that keep their id: failed
// password attempts, a lockout, used recovery codes (those still in the
// file) and consumed intents. Nothing changes if any file is invalid.
func (v *Vendor) Reload(ctx context.Context, fsys fs.FS) error {
	sd, err := v.loadSeed(fsys)
	if err != nil {
		return err
	}
	s := v.svc
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range sd.users {
		old, err := s.users.Get(ctx, u.ID)
		if err != nil {
			continue
		}
		u.PasswordFailures, u.LockedOut = old.PasswordFailures, old.LockedOut
		u.UsedRecoveryCodes = slices.DeleteFunc(old.UsedRecoveryCodes, func(c string) bool { return !slices.Contains(u.RecoveryCodes, c) })
	}
	for _, it := range sd.intents {
		if old, err := s.intents.Get(ctx, it.ID); err == nil {
			it.Consumed = old.Consumed
		}
	}
	s.install(sd)
	v.log.DebugContext(ctx, "zitadel: fixtures reloaded", "users", len(sd.users), "intents", len(sd.intents), "sessions", s.sessions.Len())
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
