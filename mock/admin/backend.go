// Package admin serves the control API under /__mock/ (described in
// openapi/admin/admin.yaml and generated into gen/admin): reset, state
// dump and load, overrides, clock and journal. It knows the mock only
// through Backend, which the server implements, so it stays vendor-agnostic
// and the server can mount it without an import cycle.
package admin

import (
	"context"
	"encoding/json"
	"time"

	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/journal"
	"github.com/idpmock/idpmock/mock/override"
)

// Backend is what the admin API drives. Errors that are *problem.Problem
// are shown as such (a NotFound stays 404); others become 500.
type Backend interface {
	// Reset reseeds one vendor's state from the fixtures.
	Reset(ctx context.Context, vendor string) error
	// ResetAll reseeds every vendor, resets the clock, drops API overrides
	// (re-arming file ones) and clears the journal.
	ResetAll(ctx context.Context) error
	DumpState(ctx context.Context) (State, error)
	LoadState(ctx context.Context, st State) error
	Clock() *clock.Controlled
	// Journal may be nil when the journal is disabled.
	Journal() *journal.Journal
	Overrides() *override.Set
	// AddOverride checks spec against the vendor's contract and stores it.
	AddOverride(ctx context.Context, spec override.Spec) (override.Rule, error)
	// Reload re-reads fixtures and the overrides file, keeping state.
	Reload(ctx context.Context) ReloadReport
	Operations() []Operation
}

// State is the state document: every vendor's snapshot plus the clock.
type State struct {
	// Vendors maps a vendor name to its snapshot, in the vendor's format; a
	// missing or null entry means "back to the fixtures" on load.
	Vendors map[string]json.RawMessage `json:"vendors"`
	Clock   *ClockState                `json:"clock,omitempty"`
	// Unsupported lists vendors that cannot dump their state yet.
	Unsupported []string `json:"unsupported,omitempty"`
}

// ClockState is the clock as the admin API shows it.
type ClockState struct {
	Now    time.Time `json:"now"`
	Frozen bool      `json:"frozen"`
	Offset string    `json:"offset"`
}

// ClockStateOf converts the clock's own state.
func ClockStateOf(s clock.State) ClockState {
	return ClockState{Now: s.Now, Frozen: s.Frozen, Offset: s.Offset.String()}
}

// ReloadReport says what a reload did.
type ReloadReport struct {
	Reloaded []string `json:"reloaded"`
	Skipped  []string `json:"skipped,omitempty"`
	Errors   []string `json:"errors"`
}

// Operation is one vendor operation, for override authors.
type Operation struct {
	Vendor, ID, Method, Path string
}
