package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/idpmock/idpmock/mock/admin"
	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/problem"
)

// DumpState returns every vendor's state and the clock. Vendors that do not
// implement Stateful are listed in Unsupported.
func (s *Server) DumpState(ctx context.Context) (admin.State, error) {
	now, err := s.clock.StateContext(ctx)
	if err != nil {
		return admin.State{}, fmt.Errorf("clock: %w", err)
	}
	cs := admin.ClockStateOf(now)
	st := admin.State{Vendors: map[string]json.RawMessage{}, Clock: &cs}
	for _, n := range s.names {
		sf, ok := s.vendor[n].vendor.(Stateful)
		if !ok {
			st.Unsupported = append(st.Unsupported, n)
			continue
		}
		raw, err := sf.SnapshotState(ctx)
		if err != nil {
			return st, fmt.Errorf("%s: snapshot: %w", n, err)
		}
		st.Vendors[n] = raw
	}
	return st, nil
}

// LoadState replaces the state with st: the clock first (so restored
// lifetimes are measured against the saved time), then each vendor; vendors
// absent from st go back to their fixtures.
//
// It is all or nothing: when a vendor refuses its part, the clock and the
// vendors already loaded go back to what they were.
func (s *Server) LoadState(ctx context.Context, st admin.State) error {
	before, err := s.DumpState(ctx)
	if err != nil {
		return fmt.Errorf("saving the current state before the load: %w", err)
	}
	if err := s.loadState(ctx, st); err != nil {
		if rerr := s.loadState(ctx, before); rerr != nil {
			s.cfg.Log.Error("rolling back a refused state load failed", "err", rerr)
		}
		return err
	}
	return nil
}

func (s *Server) loadState(ctx context.Context, st admin.State) error {
	for n, raw := range st.Vendors {
		m, ok := s.vendor[n]
		if !ok {
			return problem.New(problem.Invalid, "state document names vendor %q, which this mock does not serve", n)
		}
		if _, ok := m.vendor.(Stateful); !ok && !isNull(raw) {
			return problem.New(problem.Invalid, "vendor %s cannot load state yet (it does not implement server.Stateful)", n)
		}
	}
	if c := st.Clock; c != nil {
		frozen, now := c.Frozen, c.Now
		if err := s.clock.ChangeContext(ctx, clock.Change{Freeze: &frozen, Set: &now}); err != nil {
			var re *clock.RangeError
			if !errors.As(err, &re) {
				return fmt.Errorf("clock: %w", err)
			}
			return &problem.Problem{Kind: problem.Invalid, Message: "state document: /clock/now: " + err.Error(), Err: err}
		}
	}
	for _, n := range s.names {
		v := s.vendor[n].vendor
		raw, ok := st.Vendors[n]
		if !ok || isNull(raw) {
			if err := v.Reset(ctx, s.cfg.Fixtures); err != nil {
				return fmt.Errorf("%s: reset: %w", n, err)
			}
			continue
		}
		if err := v.(Stateful).RestoreState(ctx, raw); err != nil {
			return &problem.Problem{Kind: problem.Invalid, Message: fmt.Sprintf("%s: %v", n, err), Err: err}
		}
	}
	return nil
}

func isNull(raw []byte) bool { return len(raw) == 0 || string(raw) == "null" }

func (s *Server) loadStateFile(ctx context.Context, file string) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	st, err := admin.ParseStateFile(file, raw)
	if err != nil {
		return err
	}
	if err := s.LoadState(ctx, st); err != nil {
		return fmt.Errorf("state file %s: %w", file, err)
	}
	return nil
}
