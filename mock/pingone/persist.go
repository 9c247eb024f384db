package pingone

import (
	"context"
	"encoding/json"

	"github.com/idpmock/idpmock/mock/server"
)

// observeChanges logs sessions one by one for --state-file.
func (v *Vendor) observeChanges(ch server.Changes) {
	server.ObserveRecords(ch, v.Name(), v.sessions, func(s *session) any { return toStored(s) })
}

// RecordsMember: sessions are logged one by one (server.Incremental).
func (v *Vendor) RecordsMember() string { return "sessions" }

// SnapshotRest: the state document holds nothing but sessions.
func (v *Vendor) SnapshotRest(context.Context) (json.RawMessage, error) { return nil, nil }
