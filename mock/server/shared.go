package server

import (
	"context"
	"io/fs"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/journal"
	"github.com/idpmock/idpmock/mock/override"
	"github.com/idpmock/idpmock/mock/state/stores"
)

// shareControl moves what the control API drives into the shared store, so
// every replica shows and obeys the same: the clock's settings (with the
// overrides' and fixtures' versions), the overrides and their counts, and
// the journal (off when journalSize is negative). The bus keeps every
// replica's copy of the settings current, so requests do not read them.
func (s *Server) shareControl(journalSize int) {
	b := s.stores
	s.clock.Share(stores.Cell[clock.Settings](b, "control"))
	// Changes of the control data are announced to every replica, so a
	// request needs no read of them while the bus listens.
	s.bus = b.Bus("control")
	s.clock.Cohere(s.bus)
	s.overrides.Share(stores.Cell[override.Table](b, "overrides"),
		b.Counters("override-hits"), func(ctx context.Context) error {
			_, err := s.clock.BumpOverrides(ctx)
			return err
		})
	if journalSize >= 0 {
		if journalSize == 0 {
			journalSize = journal.DefaultSize
		}
		s.journal = journal.NewShared(b.Log("journal", journalSize))
		// Entries are added off the answer's path and flushed before reads.
		s.journal.Cohere(s.bus, func(e journal.Entry, err error) {
			s.cfg.Log.Warn("journal: entry not recorded", "method", e.Method, "path", e.Path, "err", err)
		})
	}
}

// seeded is the counter family marking vendors whose shared state has been
// seeded once; the admin reset never clears it.
const seeded = "seeded"

// seed fills a vendor's state from the fixtures: always in memory; on a
// shared store only when no replica did before (or Redis lost the mark),
// otherwise the vendor only loads the fixtures' local parts.
func seed(ctx context.Context, v Vendor, b *stores.Backend, fixtures fs.FS) error {
	if !b.Shared() {
		return v.Reset(ctx, fixtures)
	}
	n, err := b.Counters(seeded).Next(ctx, v.Name())
	if err != nil {
		return err
	}
	if r, ok := v.(Reloader); ok && n > 1 {
		return r.Reload(ctx, fixtures)
	}
	return v.Reset(ctx, fixtures)
}

// healthzTimeout bounds the store check of /healthz, below load balancers'
// usual probe timeouts.
const healthzTimeout = 500 * time.Millisecond

// healthz is ready once serving and while the store answers; otherwise 503
// with the reason, so a load balancer takes the replica out.
func (s *Server) healthz(c echo.Context) error {
	if !s.ready.Load() {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "starting"})
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), healthzTimeout)
	defer cancel()
	if err := s.stores.Ping(ctx); err != nil {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "store": s.stores.String(), "reason": err.Error()})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok", "store": s.stores.String()})
}

// startBus makes the control bus listen for the server's life and waits a
// moment for it, so a fresh replica serves from its settings at once.
func (s *Server) startBus() error {
	if s.bus == nil {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stopBus = cancel
	if err := s.bus.Start(ctx); err != nil {
		cancel()
		return err
	}
	for deadline := time.Now().Add(time.Second); !s.bus.Live() && time.Now().Before(deadline); {
		time.Sleep(2 * time.Millisecond)
	}
	return nil
}
