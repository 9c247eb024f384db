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
	"time"

	"github.com/labstack/echo/v4"

	"github.com/idpmock/idpmock/mock/admin"
)

// persister saves the state document to a file shortly after changes. A
// change schedules one save PersistDelay later; changes until then are
// saved together, and a change made while a save runs schedules the next
// one, so the file never lags the last change by much more than the delay
// plus one save. Each save replaces the file atomically.
type persister struct {
	file  string
	delay time.Duration
	dump  func(context.Context) ([]byte, []byte, error) // document, fingerprint
	log   *slog.Logger

	mu      sync.Mutex
	timer   *time.Timer
	pending bool
	closed  bool

	saving sync.Mutex // one save at a time
	last   []byte     // fingerprint of the file's content
}

// noteChanges schedules a save after every request that may have changed
// state: any method but GET, HEAD and OPTIONS, whatever its answer (a
// refused login still counts a failed password attempt). A save that
// would write what the file holds is skipped.
func (s *Server) noteChanges(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if s.persist != nil {
			switch c.Request().Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions:
			default:
				s.persist.changed()
			}
		}
		return err
	}
}

// startPersisting loads PersistFile if it exists (else the StateFile
// seed), then writes it once, so an unwritable path fails at start.
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
	raw, err := os.ReadFile(file)
	switch {
	case err == nil:
		st, err := admin.ParseStateFile(file, raw)
		if err != nil {
			return fmt.Errorf("--state-file: %w", err)
		}
		resumeClock(&st, time.Now())
		if err := s.LoadState(ctx, st); err != nil {
			return fmt.Errorf("--state-file %s: %w", file, err)
		}
		s.cfg.Log.Info("state restored", "file", file, "bytes", len(raw))
	case errors.Is(err, fs.ErrNotExist):
		if s.cfg.StateFile != "" {
			if err := s.loadStateFile(ctx, s.cfg.StateFile); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("--state-file: %w", err)
	}
	s.persist = &persister{file: file, delay: s.cfg.PersistDelay, dump: s.stateDocument, log: s.cfg.Log}
	if err := s.persist.save(ctx); err != nil {
		return fmt.Errorf("--state-file: %w", err)
	}
	return nil
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

// stateDocument is the state as GET /__mock/state shows it, and a
// fingerprint that ignores a running clock's ticking.
func (s *Server) stateDocument(ctx context.Context) ([]byte, []byte, error) {
	st, err := s.DumpState(ctx)
	if err != nil {
		return nil, nil, err
	}
	doc, err := json.Marshal(st)
	if err != nil {
		return nil, nil, err
	}
	if st.Clock != nil && !st.Clock.Frozen {
		c := *st.Clock
		c.Now = time.Time{}
		st.Clock = &c
	}
	fp, err := json.Marshal(st)
	if err != nil {
		return nil, nil, err
	}
	return append(doc, '\n'), fp, nil
}

func (p *persister) changed() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending || p.closed {
		return
	}
	p.pending = true
	p.timer = time.AfterFunc(p.delay, func() {
		p.mu.Lock()
		p.pending = false
		p.mu.Unlock()
		if err := p.save(context.Background()); err != nil {
			p.log.Error("saving the state file failed; the previous save stays", "file", p.file, "err", err)
		}
	})
}

// close stops scheduled saves and saves one last time.
func (p *persister) close(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	if p.timer != nil {
		p.timer.Stop()
	}
	p.mu.Unlock()
	if err := p.save(ctx); err != nil {
		return fmt.Errorf("saving the state file %s: %w", p.file, err)
	}
	return nil
}

func (p *persister) save(ctx context.Context) error {
	p.saving.Lock()
	defer p.saving.Unlock()
	doc, fp, err := p.dump(ctx)
	if err != nil {
		return err
	}
	if p.last != nil && bytes.Equal(fp, p.last) {
		return nil
	}
	if err := WriteFileAtomic(p.file, doc); err != nil {
		return err
	}
	p.last = fp
	return nil
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
	d, err := os.Open(dir)
	if err != nil {
		return nil // renamed; only the directory sync is missing
	}
	defer d.Close()
	if serr := d.Sync(); serr != nil && !errors.Is(serr, os.ErrInvalid) {
		return fmt.Errorf("sync %s: %w", dir, serr)
	}
	return nil
}
