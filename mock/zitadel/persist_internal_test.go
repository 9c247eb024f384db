package zitadel

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/idpmock/idpmock/fixtures"
	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/server"
)

// TestSnapshotRestMirrorsSnapshotState: the rest of the state document,
// which a persisted state saves at every batch, is exactly the state
// document without its sessions, with every kind of rest filled in.
func TestSnapshotRestMirrorsSnapshotState(t *testing.T) {
	ctx := context.Background()
	sv, err := New(server.Deps{Clock: clock.New()})
	if err != nil {
		t.Fatal(err)
	}
	v := sv.(*Vendor)
	if err := v.Reset(ctx, fixtures.Data); err != nil {
		t.Fatal(err)
	}
	users, _ := v.svc.users.List(ctx, nil)
	intents, _ := v.svc.intents.List(ctx, nil)
	if len(users) == 0 || len(intents) == 0 {
		t.Fatalf("fixtures have %d users, %d intents", len(users), len(intents))
	}
	_, _ = v.svc.users.Update(ctx, users[0].ID, func(u *user) (*user, error) { u.PasswordFailures, u.LockedOut = 3, true; return u, nil })
	_, _ = v.svc.intents.Update(ctx, intents[0].ID, func(i *intent) (*intent, error) { i.Consumed = true; return i, nil })
	v.svc.nextID(time.Now())

	whole, err := v.SnapshotState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rest, err := v.SnapshotRest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var w, r map[string]any
	_ = json.Unmarshal(whole, &w)
	_ = json.Unmarshal(rest, &r)
	for _, k := range []string{"users", "consumedIntents", "lastId"} {
		if w[k] == nil {
			t.Errorf("the test state has no %s: %s", k, whole)
		}
	}
	delete(w, v.RecordsMember())
	delete(r, v.RecordsMember())
	if !reflect.DeepEqual(w, r) {
		t.Errorf("rest %s\nwant the state without sessions %v", rest, w)
	}
}
