package zitadel

import (
	"context"
	"testing"

	"github.com/idpmock/idpmock/fixtures"
	gen "github.com/idpmock/idpmock/gen/zitadel"
	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/server"
	"github.com/idpmock/idpmock/mock/state"
)

// rerunStore runs every session update's fn twice, as a shared store does
// when another replica wrote the session between its read and its
// compare-and-set: the first run's result is thrown away.
type rerunStore struct{ state.Store[*session] }

func (r rerunStore) Update(ctx context.Context, key string, fn func(*session) (*session, error)) (*session, error) {
	return r.Store.Update(ctx, key, func(x *session) (*session, error) {
		_, _ = fn(x.Clone()) // the lost race
		return fn(x)
	})
}

// TestSetSurvivesRerun: SetSession's effects outside the session happen
// once however often its update runs: a wrong password counts once, an
// intent and a recovery code the call uses are accepted on the re-run.
func TestSetSurvivesRerun(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		checks gen.Checks
		ok     bool
		check  func(t *testing.T, s *service)
	}{
		{"wrong password counts once", gen.Checks{Password: &gen.CheckPassword{Password: "wrong"}}, false, func(t *testing.T, s *service) {
			u, _ := s.users.Get(ctx, "280310260781907970")
			if u.PasswordFailures != 1 {
				t.Errorf("counter %d, want 1", u.PasswordFailures)
			}
		}},
		{"intent", gen.Checks{IdpIntent: &gen.CheckIDPIntent{IdpIntentId: "280310400000000001", IdpIntentToken: "intent-token-mini"}}, true, func(t *testing.T, s *service) {
			it, _ := s.intents.Get(ctx, "280310400000000001")
			if !it.Consumed {
				t.Error("intent not consumed")
			}
		}},
		{"recovery code", gen.Checks{RecoveryCode: &gen.CheckRecoveryCode{Code: "R3C0-V3RY-0002"}}, true, func(t *testing.T, s *service) {
			u, _ := s.users.Get(ctx, "280310260781907970")
			if len(u.UsedRecoveryCodes) != 1 {
				t.Errorf("used codes %v, want one", u.UsedRecoveryCodes)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			sv, err := New(server.Deps{Clock: clock.New()})
			if err != nil {
				t.Fatal(err)
			}
			v := sv.(*Vendor)
			if err := v.Reset(ctx, fixtures.Data); err != nil {
				t.Fatal(err)
			}
			s := v.svc
			s.sessions = rerunStore{s.sessions}
			id := "280310260781907970"
			created, zErr := s.create(ctx, input{message: "CreateSessionRequest", checks: &gen.Checks{User: &gen.CheckUser{UserId: &id}}})
			if zErr != nil {
				t.Fatal(zErr)
			}
			_, zErr = s.set(ctx, *created.SessionId, input{message: "SetSessionRequest", checks: &c.checks})
			if (zErr == nil) != c.ok {
				t.Fatalf("set: %v, want ok %v", zErr, c.ok)
			}
			c.check(t, s)
		})
	}
}
