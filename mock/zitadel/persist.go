package zitadel

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/idpmock/idpmock/mock/server"
)

// observeChanges logs sessions one by one for --state-file.
func (v *Vendor) observeChanges(ch server.Changes) {
	server.ObserveRecords(ch, v.Name(), v.svc.sessions, func(s *session) any { return toStored(s) })
}

// RecordsMember: sessions are logged one by one (server.Incremental).
func (v *Vendor) RecordsMember() string { return "sessions" }

// SnapshotRest is the state document without its sessions: login
// counters, consumed intents and the id counter, all bounded by the
// fixtures (server.Incremental). It mirrors SnapshotState, which
// TestSnapshotRestMirrorsSnapshotState checks.
func (v *Vendor) SnapshotRest(ctx context.Context) (json.RawMessage, error) {
	s := v.svc
	s.mu.Lock()
	defer s.mu.Unlock()
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
	var doc stateDoc
	for _, u := range users {
		doc.Users = append(doc.Users, userCounters{ID: u.ID, PasswordFailures: u.PasswordFailures, LockedOut: u.LockedOut, UsedRecoveryCodes: u.UsedRecoveryCodes})
	}
	for _, i := range intents {
		doc.ConsumedIntents = append(doc.ConsumedIntents, i.ID)
	}
	s.idMu.Lock()
	if s.lastID != 0 {
		doc.LastID = strconv.FormatUint(s.lastID, 10)
	}
	s.idMu.Unlock()
	return json.Marshal(doc)
}
