package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/idpmock/idpmock/mock/admin"
)

// persister keeps the state in a file across restarts, in two parts: a
// snapshot (the state document, replaced atomically) and a change log
// next to it (FILE.log), to which changes are appended and fsynced in
// small batches PersistDelay after they happen. A batch costs what it
// changed, not the size of the state, so a change is durable within
// about PersistDelay plus one fsync at any size. Once the log outgrows the
// snapshot, it is compacted onto a new snapshot in the background.
//
// A vendor implementing Incremental has its records logged one by one (as
// Deps.Changes reports them) and the rest of its document whole when it
// changed; other Stateful vendors are logged whole when they changed.
type persister struct {
	s      *Server
	file   string
	delay  time.Duration
	logMax int64
	log    *slog.Logger

	mu        sync.Mutex
	records   map[string]map[string]func() (json.RawMessage, error) // vendor → id → doc
	whole     map[string]bool                                       // vendors to log whole
	scheduled bool
	since     time.Time // the oldest change not yet saved
	timer     *time.Timer
	closed    bool

	// flushing is held by a batch and by the log rotation of a compaction,
	// so batches reach the log in order.
	flushing   sync.Mutex
	out        *os.File          // FILE.log, appended to
	size       int64             // bytes in out
	last       map[string][]byte // vendor (or "" for the clock) → last logged rest, whole doc or clock
	compacting atomic.Bool
	compactWG  sync.WaitGroup
}

// DefaultPersistLogMax is the smallest change log that is compacted.
const DefaultPersistLogMax = 8 << 20

func (p *persister) logFile() string    { return p.file + ".log" }
func (p *persister) oldLogFile() string { return p.file + ".log.old" }

// noteChanges schedules a save after every request that may have changed
// state: any method but GET, HEAD and OPTIONS, whatever its answer (a
// refused login still counts a failed password attempt).
func (s *Server) noteChanges(c echo.Context) {
	if s.persist != nil {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			s.persist.changed()
		}
	}
}

// startPersisting loads PersistFile and replays its change log if they
// exist (else the StateFile seed), then writes a fresh snapshot and an
// empty log, so an unwritable path fails at start.
func (s *Server) startPersisting(ctx context.Context) error {
	file := s.cfg.PersistFile
	dir := filepath.Dir(file)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("--state-file %s: directory %s does not exist", file, dir)
	}
	// Temporary files of a save the process did not finish.
	if stale, _ := filepath.Glob(filepath.Join(dir, "."+filepath.Base(file)+".tmp-*")); len(stale) > 0 {
		for _, f := range stale {
			_ = os.Remove(f)
		}
	}
	p := &persister{s: s, file: file, delay: s.cfg.PersistDelay, log: s.cfg.Log,
		records: map[string]map[string]func() (json.RawMessage, error){}, whole: map[string]bool{}, last: map[string][]byte{}}
	raw, err := os.ReadFile(file)
	switch {
	case err == nil:
		st, err := admin.ParseStateFile(file, raw)
		if err != nil {
			return fmt.Errorf("--state-file: %w", err)
		}
		var logs [][]byte
		for _, f := range []string{p.oldLogFile(), p.logFile()} {
			b, err := os.ReadFile(f)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("--state-file: %w", err)
			}
			logs = append(logs, b)
		}
		n, err := replayLog(&st, logs, s.recordsMember)
		if err != nil {
			return fmt.Errorf("--state-file %s: %w", file, err)
		}
		resumeClock(&st, time.Now())
		if err := s.LoadState(ctx, st); err != nil {
			return fmt.Errorf("--state-file %s: %w", file, err)
		}
		s.cfg.Log.Info("state restored", "file", file, "bytes", len(raw), "changes", n)
	case errors.Is(err, fs.ErrNotExist):
		// A log without its snapshot cannot be replayed onto anything.
		_ = os.Remove(p.oldLogFile())
		_ = os.Remove(p.logFile())
		if s.cfg.StateFile != "" {
			if err := s.loadStateFile(ctx, s.cfg.StateFile); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("--state-file: %w", err)
	}
	if err := p.rotate(); err != nil {
		return fmt.Errorf("--state-file: %w", err)
	}
	s.persist = p
	s.changes.p.Store(p)
	if err := p.snapshot(ctx); err != nil {
		return fmt.Errorf("--state-file: %w", err)
	}
	return nil
}

// recordsMember is vendor's Incremental.RecordsMember, "" if it has none.
func (s *Server) recordsMember(vendor string) string {
	if m, ok := s.vendor[vendor]; ok {
		if inc, ok := m.vendor.(Incremental); ok {
			return inc.RecordsMember()
		}
	}
	return ""
}

// resumeClock makes a running clock continue at wall time plus its saved
// offset, so time passes while the mock is down as it does for the real
// vendor; a frozen clock stays at its instant.
func resumeClock(st *admin.State, now time.Time) {
	if st.Clock == nil || st.Clock.Frozen {
		return
	}
	off, err := time.ParseDuration(st.Clock.Offset)
	if err != nil {
		return // keep the saved instant
	}
	st.Clock.Now = now.Add(off).UTC()
}

func (p *persister) record(vendor, id string, doc func() (json.RawMessage, error)) {
	p.mu.Lock()
	m := p.records[vendor]
	if m == nil {
		m = map[string]func() (json.RawMessage, error){}
		p.records[vendor] = m
	}
	m[id] = doc // only the record's last value matters
	p.scheduleLocked()
	p.mu.Unlock()
}

func (p *persister) replaced(vendor string) {
	p.mu.Lock()
	delete(p.records, vendor) // the whole document holds them
	p.whole[vendor] = true
	p.scheduleLocked()
	p.mu.Unlock()
}

func (p *persister) changed() {
	p.mu.Lock()
	p.scheduleLocked()
	p.mu.Unlock()
}

func (p *persister) scheduleLocked() {
	if p.since.IsZero() {
		p.since = time.Now()
	}
	if p.scheduled || p.closed {
		return
	}
	p.scheduled = true
	p.timer = time.AfterFunc(p.delay, func() {
		p.mu.Lock()
		p.scheduled = false
		p.mu.Unlock()
		if err := p.flush(context.Background()); err != nil {
			if errors.Is(err, errPersistClosed) {
				return
			}
			p.log.Error("saving state changes failed; they are saved with the next change", "file", p.logFile(), "err", err)
			return
		}
		p.maybeCompact()
	})
}

// flush appends what changed since the last batch to the log and fsyncs it.
func (p *persister) flush(ctx context.Context) error {
	p.flushing.Lock()
	defer p.flushing.Unlock()
	if p.out == nil {
		return errPersistClosed
	}
	p.mu.Lock()
	records, whole, since := p.records, p.whole, p.since
	p.records, p.whole, p.since = map[string]map[string]func() (json.RawMessage, error){}, map[string]bool{}, time.Time{}
	p.mu.Unlock()

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	fail := func(err error) error {
		// Keep the batch for the next try.
		p.mu.Lock()
		if p.since.IsZero() || since.Before(p.since) {
			p.since = since
		}
		for v := range whole {
			p.whole[v] = true
		}
		for v, m := range records {
			if p.whole[v] {
				continue
			}
			for id, doc := range m {
				if _, newer := p.records[v][id]; !newer {
					if p.records[v] == nil {
						p.records[v] = map[string]func() (json.RawMessage, error){}
					}
					p.records[v][id] = doc
				}
			}
		}
		p.mu.Unlock()
		return err
	}
	for _, name := range p.s.names {
		sf, ok := p.s.vendor[name].vendor.(Stateful)
		if !ok {
			continue
		}
		inc, isInc := sf.(Incremental)
		if whole[name] || !isInc {
			doc, err := sf.SnapshotState(ctx)
			if err != nil {
				return fail(fmt.Errorf("%s: snapshot: %w", name, err))
			}
			if !whole[name] && bytes.Equal(doc, p.last[name]) {
				continue
			}
			if err := enc.Encode(logEntry{Vendor: name, Whole: doc}); err != nil {
				return fail(err)
			}
			p.last[name] = doc
		}
		if !isInc {
			continue
		}
		for id, doc := range records[name] {
			raw, err := doc()
			if err != nil {
				return fail(fmt.Errorf("%s: record %s: %w", name, id, err))
			}
			if err := enc.Encode(logEntry{Vendor: name, ID: id, Doc: raw}); err != nil {
				return fail(err)
			}
		}
		rest, err := inc.SnapshotRest(ctx)
		if err != nil {
			return fail(fmt.Errorf("%s: snapshot: %w", name, err))
		}
		if rest != nil && !whole[name] && !bytes.Equal(rest, p.last[name]) {
			if err := enc.Encode(logEntry{Vendor: name, Rest: rest}); err != nil {
				return fail(err)
			}
		}
		p.last[name] = rest
	}
	cs := admin.ClockStateOf(p.s.clock.State())
	fp := clockPrint(cs)
	if !bytes.Equal(fp, p.last[""]) {
		if err := enc.Encode(logEntry{Clock: &cs}); err != nil {
			return fail(err)
		}
		p.last[""] = fp
	}
	if buf.Len() == 0 {
		return nil
	}
	if _, err := p.out.Write(buf.Bytes()); err != nil {
		return fail(err)
	}
	if err := p.out.Sync(); err != nil {
		return fail(err)
	}
	p.size += int64(buf.Len())
	if !since.IsZero() {
		// The age of the oldest change at its fsync: what the durability
		// promise bounds (make durability-test reads it).
		p.log.Debug("state changes saved", "bytes", buf.Len(), "age", time.Since(since))
	}
	return nil
}

// clockPrint is what a clock state is compared by: a running clock's
// instant ticks on without any change.
func clockPrint(cs admin.ClockState) []byte {
	if !cs.Frozen {
		cs.Now = time.Time{}
	}
	b, _ := json.Marshal(cs)
	return b
}

// rotate starts a new, empty log; the current one becomes FILE.log.old
// until the snapshot that follows holds all it says.
func (p *persister) rotate() error {
	if p.out != nil {
		if err := p.out.Close(); err != nil {
			return err
		}
		p.out = nil
	}
	if err := keepOld(p.logFile(), p.oldLogFile()); err != nil {
		return err
	}
	f, err := os.OpenFile(p.logFile(), os.O_CREATE|os.O_WRONLY|os.O_TRUNC|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	p.out, p.size = f, 0
	return syncDir(filepath.Dir(p.file))
}

// keepOld moves the log to old: a rename, or, when old is still there
// (a compaction or a start whose snapshot was never written), an append,
// so no entry the snapshot lacks is ever dropped. A line a crash cut
// short at the end of old goes: it cannot be followed by more.
func keepOld(log, old string) error {
	data, err := os.ReadFile(log)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	prev, err := os.ReadFile(old)
	if errors.Is(err, fs.ErrNotExist) {
		return os.Rename(log, old)
	}
	if err != nil {
		return err
	}
	if len(data) > 0 {
		whole := prev[:bytes.LastIndexByte(prev, '\n')+1]
		if err := WriteFileAtomic(old, append(whole, data...)); err != nil {
			return err
		}
	}
	return os.Remove(log)
}

// snapshot writes the whole state as the new snapshot and drops the old
// log. The log was rotated before (startPersisting, compact), and the
// state is dumped after: so every change the dump may miss is in the new
// log, and replaying the new log (even with changes the dump already
// holds: every entry sets a last value) gives the state.
func (p *persister) snapshot(ctx context.Context) error {
	st, err := p.s.DumpState(ctx)
	if err != nil {
		return err
	}
	doc, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(p.file, append(doc, '\n')); err != nil {
		return err
	}
	if err := os.Remove(p.oldLogFile()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	p.flushing.Lock()
	p.logMax = p.s.cfg.PersistLogMax
	if p.logMax <= 0 {
		p.logMax = max(int64(len(doc)), DefaultPersistLogMax)
	}
	p.flushing.Unlock()
	return nil
}

// maybeCompact starts a compaction in the background once the log has
// outgrown its limit.
func (p *persister) maybeCompact() {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return // close writes the last snapshot
	}
	p.flushing.Lock()
	big := p.out != nil && p.logMax > 0 && p.size > p.logMax
	p.flushing.Unlock()
	if !big || !p.compacting.CompareAndSwap(false, true) {
		return
	}
	p.compactWG.Add(1)
	go func() {
		defer p.compactWG.Done()
		defer p.compacting.Store(false)
		if err := p.compact(context.Background()); err != nil {
			p.log.Error("compacting the state file failed; the change log keeps growing", "file", p.file, "err", err)
		}
	}()
}

func (p *persister) compact(ctx context.Context) error {
	p.flushing.Lock()
	if p.out == nil {
		p.flushing.Unlock()
		return errPersistClosed
	}
	err := p.rotate()
	p.flushing.Unlock()
	if err != nil {
		return err
	}
	start := time.Now()
	if err := p.snapshot(ctx); err != nil {
		return err
	}
	p.log.Info("state file compacted", "file", p.file, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// close stops scheduled saves, saves the last changes and writes one last
// snapshot with an empty log.
func (p *persister) close(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	if p.timer != nil {
		p.timer.Stop()
	}
	p.mu.Unlock()
	p.compactWG.Wait()
	if err := p.flush(ctx); err != nil && !errors.Is(err, errPersistClosed) {
		return fmt.Errorf("saving the state file %s: %w", p.file, err)
	}
	p.flushing.Lock()
	err := p.rotate()
	p.flushing.Unlock()
	if err == nil {
		err = p.snapshot(ctx)
	}
	if err != nil {
		return fmt.Errorf("saving the state file %s: %w", p.file, err)
	}
	p.flushing.Lock()
	defer p.flushing.Unlock()
	if p.out != nil {
		err, p.out = p.out.Close(), nil
	}
	return err
}

// WriteFileAtomic replaces file with data so that a crash at any moment
// leaves either the old or the new content, never a mix: a temporary file
// in the same directory is written and synced, renamed over file, and the
// directory synced so the rename itself survives a power loss. The file
// is private (0600): state holds session tokens.
func WriteFileAtomic(file string, data []byte) (err error) {
	dir := filepath.Dir(file)
	f, err := os.CreateTemp(dir, "."+filepath.Base(file)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, file); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename or a new file in dir survive a power loss.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return nil // only the directory sync is missing
	}
	defer d.Close()
	if serr := d.Sync(); serr != nil && !errors.Is(serr, os.ErrInvalid) {
		return fmt.Errorf("sync %s: %w", dir, serr)
	}
	return nil
}
