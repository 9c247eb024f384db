package journal

import (
	"context"
	"sync"

	"github.com/idpmock/idpmock/mock/state"
)

// A shared journal with a live bus (Cohere) adds entries in the background,
// off the answer's critical path, and every read first asks every replica
// to finish the additions it has started (flushKind): a request whose
// answer came back before the read began is in what the read sees,
// whichever replica served it.
const flushKind = "journal-flush"

// inflight tracks the additions a replica has started and not finished.
type inflight struct {
	mu    sync.Mutex
	cond  *sync.Cond
	next  uint64
	going map[uint64]struct{}
}

func newInflight() *inflight {
	f := &inflight{going: map[uint64]struct{}{}}
	f.cond = sync.NewCond(&f.mu)
	return f
}

func (f *inflight) start() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.next
	f.next++
	f.going[id] = struct{}{}
	return id
}

func (f *inflight) done(id uint64) {
	f.mu.Lock()
	delete(f.going, id)
	f.mu.Unlock()
	f.cond.Broadcast()
}

// wait returns once every addition started before it was called is done
// (each addition is bounded by the store's timeout).
func (f *inflight) wait() {
	f.mu.Lock()
	defer f.mu.Unlock()
	mark := f.next
	for f.before(mark) {
		f.cond.Wait()
	}
}

func (f *inflight) before(mark uint64) bool {
	for id := range f.going {
		if id < mark {
			return true
		}
	}
	return false
}

// Cohere makes a shared journal add entries in the background while bus is
// live, and flush every replica's additions before each read. onErr hears
// an addition that failed (the store was unavailable). Call it before the
// bus starts.
func (j *Journal) Cohere(bus state.Bus, onErr func(Entry, error)) {
	sh := j.shared
	if sh == nil {
		return
	}
	sh.bus, sh.onErr, sh.inflight = bus, onErr, newInflight()
	bus.Handle(flushKind, func(context.Context, []byte) { sh.inflight.wait() })
}

// background reports whether additions go in the background now.
func (sh *shared) background() bool { return sh.bus != nil && sh.bus.Live() }

// addLater adds raw in the background; e is for onErr.
func (sh *shared) addLater(ctx context.Context, e Entry, raw []byte) {
	id := sh.inflight.start()
	go func() {
		defer sh.inflight.done(id)
		if _, err := sh.log.Push(ctx, raw); err != nil && sh.onErr != nil {
			sh.onErr(e, err)
		}
	}()
}

// flush makes every replica finish the additions it has started; a journal
// without a live bus has none in the background.
func (sh *shared) flush(ctx context.Context) error {
	if sh.bus == nil {
		return nil
	}
	if !sh.bus.Live() {
		// This replica cannot ask the others; its own are done at least.
		sh.inflight.wait()
		return nil
	}
	return sh.bus.Call(ctx, flushKind, nil)
}

// Drain waits for this replica's background additions (at shutdown).
func (j *Journal) Drain() {
	if sh := j.shared; sh != nil && sh.inflight != nil {
		sh.inflight.wait()
	}
}
