package journal

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock/problem"
	"github.com/idpmock/idpmock/mock/state"
)

// TestSharedJournal: two journals on one numbered log, as two replicas on
// one Redis: each finds the other's entries, numbers are unique, the
// capped log keeps the newest, a wait ends on the other's entry.
func TestSharedJournal(t *testing.T) {
	ctx := context.Background()
	log := state.NewMemoryLog(3)
	a, b := NewShared(log), NewShared(log)
	e := Entry{Operation: "createThing", Method: "POST", Path: "/x", Status: 400,
		Header:  http.Header{"Authorization": {"[REDACTED]"}},
		Problem: &problem.Problem{Kind: problem.Invalid, Message: "bad", Issues: []problem.Issue{{In: "body", Field: "name", Message: "required"}}}}
	e.SetBody("application/json", []byte(`{"name":"n","password":"secret"}`), DefaultRedactor)
	got, err := a.AddContext(ctx, e)
	if err != nil || got.Seq != 1 {
		t.Fatalf("AddContext = %+v, %v", got, err)
	}
	if got := b.Add(Entry{Operation: "readThing", Status: 200}); got.Seq != 2 {
		t.Errorf("B's entry numbered %d, want 2", got.Seq)
	}
	es := b.Find(Query{Operation: "createThing"})
	if len(es) != 1 {
		t.Fatalf("B finds %d of A's entries", len(es))
	}
	r := es[0]
	if r.Seq != 1 || r.Problem == nil || r.Problem.Issues[0].Field != "name" || r.Valid() || r.Header.Get("Authorization") != "[REDACTED]" {
		t.Errorf("entry read back: %+v", r)
	}
	if body, _ := r.Body.(map[string]any); body["name"] != "n" || body["password"] == "secret" {
		t.Errorf("body read back %v: decoded, secrets redacted before storing", r.Body)
	}
	if n := a.Count(Query{Body: map[string]any{"/name": "n"}}); n != 1 {
		t.Errorf("body query on A: %d", n)
	}
	for range 3 {
		a.Add(Entry{Operation: "more"})
	}
	if all := b.All(); len(all) != 3 || all[0].Seq != 3 || b.Len() != 3 || b.Seq() != 5 {
		t.Errorf("capped shared journal: %d entries from %d, len %d, seq %d", len(all), all[0].Seq, b.Len(), b.Seq())
	}
	if got := a.Find(Query{Since: 4, Limit: 5}); len(got) != 1 || got[0].Seq != 5 {
		t.Errorf("since 4: %+v", got)
	}
	done := make(chan bool, 1)
	go func() {
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		done <- b.Wait(wctx, 5)
	}()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	a.Add(Entry{})
	if !<-done || time.Since(start) > PollInterval+100*time.Millisecond {
		t.Errorf("wait on B after A's entry: took %v", time.Since(start))
	}
	b.Clear()
	if a.Len() != 0 || a.Add(Entry{}).Seq != 7 {
		t.Error("clear through B: A still has entries, or the numbering restarted")
	}
	// Wake ends a wait at once (shutdown).
	go func() { time.Sleep(20 * time.Millisecond); a.Wake() }()
	if !a.Wait(ctx, 100) {
		t.Error("Wake did not end the wait")
	}
}

// An entry stored after a later request's (added after its answer, on
// another replica) is still listed where its request arrived.
func TestSharedJournalListsInArrivalOrder(t *testing.T) {
	ctx := context.Background()
	log := state.NewMemoryLog(10)
	a, b := NewShared(log), NewShared(log)
	t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	if _, err := b.AddContext(ctx, Entry{Operation: "second", At: t0.Add(time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddContext(ctx, Entry{Operation: "first", At: t0}); err != nil {
		t.Fatal(err)
	}
	es, err := b.FindContext(ctx, Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].Operation != "first" || es[1].Operation != "second" {
		t.Fatalf("listed %+v, want first then second", es)
	}
	p, err := a.PageContext(ctx, Query{Limit: 1})
	if err != nil || len(p.Entries) != 1 || p.Entries[0].Operation != "second" || p.LastSeq != 2 {
		t.Fatalf("newest page %+v, %v: want the second request", p, err)
	}
}
