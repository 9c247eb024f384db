package override

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/idpmock/idpmock/mock/state"
)

// Table is the rules as replicas share them (--store redis://): every
// replica's API and file overrides, oldest first. Seq numbers the rules so
// ids stay unique across replicas. Hit counts live in counters, not here.
type Table struct {
	Seq   int64  `json:"seq"`
	Rules []Rule `json:"rules,omitempty"`
}

// shared is a Set's backing on a shared store.
type shared struct {
	table state.UpdateCell[Table]
	used  state.Counters // per rule id: how many requests it answered
	bump  func(context.Context) error

	mu      sync.Mutex
	version int64 // of rules; -1: none read yet
	rules   []Rule
	spent   map[string]bool // limited rules known to have fired their times
}

// Share keeps the rules in table and their hits in used from now on, so
// that a rule added through one replica fires on every replica and "times"
// counts across replicas. bump is called after every change: it must
// change the version the replicas pass to TakeContext (the server keeps it
// with the shared clock, so one read per request brings both). Call Share
// before the set is used.
func (s *Set) Share(table state.UpdateCell[Table], used state.Counters, bump func(context.Context) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shared = &shared{table: table, used: used, bump: bump, version: -1}
}

// Shared reports whether the rules live in a shared store.
func (s *Set) Shared() bool { return s != nil && s.shared != nil }

// TakeContext is Take for the request ctx belongs to. version is the
// shared rules' version the request read (ignored by a local set): rules
// are read again only when it changed. A shared set answers an unavailable
// store with a state.UnavailableError.
func (s *Set) TakeContext(ctx context.Context, version int64, req Request) (Rule, bool, error) {
	sh := s.shared
	if sh == nil {
		r, ok := s.Take(req)
		return r, ok, nil
	}
	rules, err := sh.at(ctx, version)
	if err != nil {
		return Rule{}, false, err
	}
	bodyOnce := req.lazyBody()
	for i := len(rules) - 1; i >= 0; i-- {
		r := rules[i]
		if r.Operation != req.Operation || sh.isSpent(r.ID) || !r.matches(req, bodyOnce) {
			continue
		}
		// The counter decides: exactly Times requests across replicas
		// see a number up to Times.
		n, err := sh.used.Next(ctx, r.ID)
		if err != nil {
			return Rule{}, false, err
		}
		if r.Times > 0 && n > int64(r.Times) {
			sh.markSpent(r.ID)
			continue
		}
		r.Hits = int(n - 1)
		r.Remaining = -1
		if r.Times > 0 {
			r.Remaining = r.Times - r.Hits
		}
		return r, true, nil
	}
	return Rule{}, false, nil
}

// at returns the rules of version, reading them when the cached ones are
// older (always when version is negative). Writers change the table before the version, so the table read
// after seeing a version is at least that new.
func (sh *shared) at(ctx context.Context, version int64) ([]Rule, error) {
	sh.mu.Lock()
	if version >= 0 && sh.version == version {
		rules := sh.rules
		sh.mu.Unlock()
		return rules, nil
	}
	sh.mu.Unlock()
	t, err := sh.table.Load(ctx)
	if err != nil {
		return nil, err
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.version, sh.rules = version, t.Rules
	for id := range sh.spent {
		if !slices.ContainsFunc(t.Rules, func(r Rule) bool { return r.ID == id }) {
			delete(sh.spent, id)
		}
	}
	return t.Rules, nil
}

func (sh *shared) isSpent(id string) bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.spent[id]
}

func (sh *shared) markSpent(id string) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.spent == nil {
		sh.spent = map[string]bool{}
	}
	sh.spent[id] = true
}

// withHits fills r's hit count and what remains from its counter.
func (sh *shared) withHits(ctx context.Context, r Rule) (Rule, error) {
	n, err := sh.used.Left(ctx, r.ID)
	if err != nil {
		return r, err
	}
	r.Hits, r.Remaining = int(n), -1
	if r.Times > 0 {
		r.Hits = min(int(n), r.Times)
		r.Remaining = r.Times - r.Hits
	}
	return r, nil
}

// update changes the table and, when it changed, tells the replicas.
func (sh *shared) update(ctx context.Context, fn func(Table) (Table, bool)) error {
	changed := false
	if _, err := sh.table.Update(ctx, func(t Table) (Table, error) {
		t.Rules = slices.Clone(t.Rules)
		t, changed = fn(t)
		return t, nil
	}); err != nil {
		return err
	}
	if !changed {
		return nil
	}
	return sh.bump(ctx)
}

func newRule(t *Table, spec Spec, source string, now time.Time) Rule {
	t.Seq++
	r := Rule{Spec: spec, ID: fmt.Sprintf("ov%d", t.Seq), Source: source, Remaining: -1, CreatedAt: now.UTC()}
	if spec.Times > 0 {
		r.Remaining = spec.Times
	}
	t.Rules = append(t.Rules, r)
	return r
}

// AddContext is Add, which a shared set may fail.
func (s *Set) AddContext(ctx context.Context, spec Spec, source string, now time.Time) (Rule, error) {
	sh := s.shared
	if sh == nil {
		return s.Add(spec, source, now), nil
	}
	var added Rule
	err := sh.update(ctx, func(t Table) (Table, bool) {
		added = newRule(&t, spec, source, now)
		return t, true
	})
	return added, err
}

// ReplaceSourceContext is ReplaceSource, which a shared set may fail. A
// shared set keeps the source's rules (and their counts) when specs are the
// ones it holds: every replica loads the same overrides file at start.
func (s *Set) ReplaceSourceContext(ctx context.Context, source string, specs []Spec, now time.Time) error {
	sh := s.shared
	if sh == nil {
		s.ReplaceSource(source, specs, now)
		return nil
	}
	want, err := json.Marshal(specs)
	if err != nil {
		return err
	}
	return sh.update(ctx, func(t Table) (Table, bool) {
		var have []Spec
		for _, r := range t.Rules {
			if r.Source == source {
				have = append(have, r.Spec)
			}
		}
		if got, err := json.Marshal(have); err == nil && (string(got) == string(want) || len(have) == 0 && len(specs) == 0) {
			return t, false
		}
		t.Rules = slices.DeleteFunc(t.Rules, func(r Rule) bool { return r.Source == source })
		for _, sp := range specs {
			newRule(&t, sp, source, now)
		}
		return t, true
	})
}

// ListContext is List, which a shared set may fail.
func (s *Set) ListContext(ctx context.Context) ([]Rule, error) {
	sh := s.shared
	if sh == nil {
		return s.List(), nil
	}
	t, err := sh.table.Load(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Rule, 0, len(t.Rules))
	for i := len(t.Rules) - 1; i >= 0; i-- {
		r, err := sh.withHits(ctx, t.Rules[i])
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// GetContext is Get, which a shared set may fail.
func (s *Set) GetContext(ctx context.Context, id string) (Rule, bool, error) {
	sh := s.shared
	if sh == nil {
		r, ok := s.Get(id)
		return r, ok, nil
	}
	t, err := sh.table.Load(ctx)
	if err != nil {
		return Rule{}, false, err
	}
	for _, r := range t.Rules {
		if r.ID == id {
			r, err = sh.withHits(ctx, r)
			return r, err == nil, err
		}
	}
	return Rule{}, false, nil
}

// DeleteContext is Delete, which a shared set may fail.
func (s *Set) DeleteContext(ctx context.Context, id string) (bool, error) {
	sh := s.shared
	if sh == nil {
		return s.Delete(id), nil
	}
	found := false
	err := sh.update(ctx, func(t Table) (Table, bool) {
		n := len(t.Rules)
		t.Rules = slices.DeleteFunc(t.Rules, func(r Rule) bool { return r.ID == id })
		found = len(t.Rules) < n
		return t, found
	})
	if err != nil || !found {
		return found, err
	}
	return true, sh.used.Disarm(ctx, id)
}

// ClearContext is Clear, which a shared set may fail; the counts go too.
func (s *Set) ClearContext(ctx context.Context) error {
	sh := s.shared
	if sh == nil {
		s.Clear()
		return nil
	}
	if err := sh.update(ctx, func(t Table) (Table, bool) {
		t.Rules = nil
		return t, true
	}); err != nil {
		return err
	}
	return sh.used.Reset(ctx)
}
