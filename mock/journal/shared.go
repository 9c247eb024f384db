package journal

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/idpmock/idpmock/mock/problem"
	"github.com/idpmock/idpmock/mock/state"
)

// PollInterval is how often a Wait on a shared journal looks for entries
// another replica added.
const PollInterval = 200 * time.Millisecond

// shared is a journal's backing on a shared store.
type shared struct {
	log      state.SeqLog
	wakeOnce sync.Once
	wake     chan struct{}
	// Set by Cohere: additions in the background while bus is live.
	bus      state.Bus
	onErr    func(Entry, error)
	inflight *inflight
}

// NewShared returns a journal kept in log (--store redis://): every
// replica adds its requests to it and reads everyone's, numbered across
// replicas. The log's cap bounds it.
func NewShared(log state.SeqLog) *Journal {
	return &Journal{shared: &shared{log: log, wake: make(chan struct{})}}
}

// Shared reports whether the journal lives in a shared store.
func (j *Journal) Shared() bool { return j != nil && j.shared != nil }

// wire is an entry as the shared log keeps it: bodies already decoded and
// redacted (no secret reaches the store), the problem without its cause.
type wire struct {
	Entry
	Problem *wireProblem `json:"Problem,omitempty"`
}

type wireProblem struct {
	Kind    problem.Kind    `json:"kind"`
	Message string          `json:"message"`
	Issues  []problem.Issue `json:"issues,omitempty"`
}

func encodeEntry(e Entry) ([]byte, error) {
	w := wire{Entry: e.resolved()}
	if p := e.Problem; p != nil {
		w.Problem = &wireProblem{Kind: p.Kind, Message: p.Message, Issues: p.Issues}
	}
	return json.Marshal(w)
}

// decodeInOrder decodes entries in the order their requests arrived: an
// entry is numbered when stored, which for entries added after the answer
// (Cohere) may be after a later request's, on another replica; a client's
// request made after another's answer arrived later. Replicas on different
// hosts order by their clocks (NTP keeps them within what one round trip
// through a balancer takes).
func decodeInOrder(ns []state.Numbered) ([]Entry, error) {
	out := make([]Entry, 0, len(ns))
	for _, n := range ns {
		e, err := decodeEntry(n)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	slices.SortStableFunc(out, func(a, b Entry) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Seq, b.Seq))
	})
	return out, nil
}

func decodeEntry(n state.Numbered) (Entry, error) {
	var w wire
	if err := json.Unmarshal(n.Entry, &w); err != nil {
		return Entry{}, fmt.Errorf("journal: entry %d: %w", n.Seq, err)
	}
	e := w.Entry
	e.Seq = n.Seq
	if p := w.Problem; p != nil {
		e.Problem = &problem.Problem{Kind: p.Kind, Message: p.Message, Issues: p.Issues}
	}
	return e, nil
}

// AddContext is Add, which a shared journal may fail: the entry is in the
// store (numbered) when it returns.
func (j *Journal) AddContext(ctx context.Context, e Entry) (Entry, error) {
	sh := j.shared
	if sh == nil {
		return j.Add(e), nil
	}
	raw, err := encodeEntry(e)
	if err != nil {
		return e, err
	}
	if sh.background() {
		sh.addLater(ctx, e, raw) // numbered when stored
		return e, nil
	}
	seq, err := sh.log.Push(ctx, raw)
	if err != nil {
		return e, err
	}
	e.Seq = seq
	return e, nil
}

// FindContext is Find, which a shared journal may fail.
func (j *Journal) FindContext(ctx context.Context, q Query) ([]Entry, error) {
	sh := j.shared
	if sh == nil {
		return j.Find(q), nil
	}
	if err := sh.flush(ctx); err != nil {
		return nil, err
	}
	ns, _, err := sh.log.Since(ctx, max(q.Since, 0))
	if err != nil {
		return nil, err
	}
	all, err := decodeInOrder(ns)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, e := range all {
		if q.Match(e) {
			out = append(out, e)
		}
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[len(out)-q.Limit:]
	}
	return out, nil
}

// Page is what the admin API lists: the entries matching a query, how many
// the journal holds and the newest number given.
type Page struct {
	Entries []Entry
	Total   int
	LastSeq int64
}

// PageContext reads a Page: one read of a shared journal.
func (j *Journal) PageContext(ctx context.Context, q Query) (Page, error) {
	sh := j.shared
	if sh == nil {
		seq := j.Seq()
		return Page{Total: j.Len(), LastSeq: seq, Entries: j.Find(q)}, nil
	}
	if err := sh.flush(ctx); err != nil {
		return Page{}, err
	}
	ns, newest, err := sh.log.Since(ctx, 0)
	if err != nil {
		return Page{}, err
	}
	out := Page{Total: len(ns), LastSeq: newest}
	all, err := decodeInOrder(ns)
	if err != nil {
		return Page{}, err
	}
	for _, e := range all {
		if e.Seq > q.Since && q.Match(e) {
			out.Entries = append(out.Entries, e)
		}
	}
	if q.Limit > 0 && len(out.Entries) > q.Limit {
		out.Entries = out.Entries[len(out.Entries)-q.Limit:]
	}
	return out, nil
}

// CountContext is Count, which a shared journal may fail.
func (j *Journal) CountContext(ctx context.Context, q Query) (int, error) {
	q.Limit = 0
	es, err := j.FindContext(ctx, q)
	return len(es), err
}

// ClearContext is Clear, which a shared journal may fail.
func (j *Journal) ClearContext(ctx context.Context) error {
	if j.shared == nil {
		j.Clear()
		return nil
	}
	if err := j.shared.flush(ctx); err != nil {
		return err
	}
	return j.shared.log.Clear(ctx)
}

// SeqContext is Seq, which a shared journal may fail.
func (j *Journal) SeqContext(ctx context.Context) (int64, error) {
	if j.shared == nil {
		return j.Seq(), nil
	}
	if err := j.shared.flush(ctx); err != nil {
		return 0, err
	}
	return j.shared.log.Newest(ctx)
}

// LenContext is Len, which a shared journal may fail.
func (j *Journal) LenContext(ctx context.Context) (int, error) {
	if j.shared == nil {
		return j.Len(), nil
	}
	if err := j.shared.flush(ctx); err != nil {
		return 0, err
	}
	return j.shared.log.Len(ctx)
}

// WaitContext is Wait, which a shared journal may fail: it polls the
// newest number every PollInterval, as entries come from every replica.
func (j *Journal) WaitContext(ctx context.Context, since int64) (bool, error) {
	sh := j.shared
	if sh == nil {
		return j.Wait(ctx, since), nil
	}
	t := time.NewTicker(PollInterval)
	defer t.Stop()
	for {
		n, err := sh.log.Newest(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return false, nil
			}
			return false, err
		}
		if n > since {
			return true, nil
		}
		select {
		case <-t.C:
		case <-sh.wake:
			return true, nil
		case <-ctx.Done():
			return false, nil
		}
	}
}
