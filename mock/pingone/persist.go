package pingone

import (
	"context"
	"encoding/json"

	"github.com/idpmock/idpmock/mock/server"
	"github.com/idpmock/idpmock/mock/state"
)

// observeChanges reports each session change to the server, so a persisted
// state saves one session, not all of them, per change.
func (v *Vendor) observeChanges(ch server.Changes) {
	if ch == nil {
		return
	}
	v.sessions.Observe(state.Observer[*session]{
		Changed: func(key string, s *session, deleted bool) {
			ch.Record(v.Name(), key, func() (json.RawMessage, error) {
				if deleted {
					return nil, nil
				}
				return json.Marshal(toStored(s))
			})
		},
		Replaced: func() { ch.Replaced(v.Name()) },
	})
}

// RecordsMember: sessions are logged one by one (server.Incremental).
func (v *Vendor) RecordsMember() string { return "sessions" }

// SnapshotRest: the state document holds nothing but sessions.
func (v *Vendor) SnapshotRest(context.Context) (json.RawMessage, error) { return nil, nil }
