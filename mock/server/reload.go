package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/idpmock/idpmock/mock/admin"
	"github.com/idpmock/idpmock/mock/override"
	"github.com/idpmock/idpmock/mock/watch"
)

// Reload re-reads the fixtures of every vendor that implements Reloader and
// the overrides file, keeping state and the journal. A part that fails
// keeps its previous version; the report says which.
func (s *Server) Reload(ctx context.Context) admin.ReloadReport {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	rep := s.reloadVendors(ctx)
	if len(rep.Reloaded) > 0 && s.clock.Shared() {
		// The other replicas reload theirs at their next request.
		if v, err := s.clock.BumpFixtures(ctx); err != nil {
			rep.Errors = append(rep.Errors, "telling the other replicas: "+err.Error())
		} else {
			s.fixturesSeen.Store(v)
		}
	}
	if s.cfg.OverridesFile != "" {
		if err := s.loadOverridesFile(ctx); err != nil {
			rep.Errors = append(rep.Errors, err.Error())
		} else {
			rep.Reloaded = append(rep.Reloaded, "overrides")
		}
	}
	if len(rep.Errors) > 0 {
		s.cfg.Log.Warn("reload: kept the previous version of what failed", "errors", rep.Errors, "reloaded", rep.Reloaded)
	} else {
		s.cfg.Log.Info("reloaded", "parts", rep.Reloaded, "skipped", rep.Skipped)
	}
	return rep
}

// loadOverridesFile replaces the file's overrides, all or nothing.
func (s *Server) loadOverridesFile(ctx context.Context) error {
	file := s.cfg.OverridesFile
	raw, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return s.overrides.ReplaceSourceContext(ctx, override.SourceFile, nil, s.clock.Now())
	}
	if err != nil {
		return fmt.Errorf("overrides file: %w", err)
	}
	specs, err := admin.ParseOverridesFile(file, raw)
	if err != nil {
		return err
	}
	for i, sp := range specs {
		if err := s.checkOverride(ctx, sp); err != nil {
			return fmt.Errorf("%s: /overrides/%d: %w", file, i, err)
		}
	}
	return s.overrides.ReplaceSourceContext(ctx, override.SourceFile, specs, s.clock.Now())
}

// Watch reloads whenever a file under FixturesDir (or the overrides file)
// changes, until ctx ends. Run calls it when Config.Watch is set.
func (s *Server) Watch(ctx context.Context) error {
	if s.cfg.FixturesDir == "" {
		return errors.New("--watch needs --fixtures DIR")
	}
	dirs := []string{s.cfg.FixturesDir}
	if f := s.cfg.OverridesFile; f != "" {
		dirs = append(dirs, filepath.Dir(f))
	}
	return watch.Dirs(ctx, s.cfg.Log, 150*time.Millisecond, func() { s.Reload(ctx) }, dirs...)
}

// reloadVendors reloads every Reloader vendor's fixtures; reloadMu is held.
func (s *Server) reloadVendors(ctx context.Context) admin.ReloadReport {
	rep := admin.ReloadReport{Reloaded: []string{}, Errors: []string{}}
	for _, n := range s.names {
		r, ok := s.vendor[n].vendor.(Reloader)
		if !ok {
			rep.Skipped = append(rep.Skipped, n)
			continue
		}
		if err := r.Reload(ctx, s.cfg.Fixtures); err != nil {
			rep.Errors = append(rep.Errors, fmt.Sprintf("%s: %v", n, err))
			continue
		}
		rep.Reloaded = append(rep.Reloaded, n)
	}
	return rep
}

// catchUpFixtures reloads this replica's fixtures when another replica
// reloaded its own (version is the shared fixtures version just read), so
// data every replica keeps locally (ZITADEL's users as rendered, PingOne's
// known environments) follows the reload everywhere.
func (s *Server) catchUpFixtures(ctx context.Context, version int64) {
	if version <= s.fixturesSeen.Load() {
		return
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if version <= s.fixturesSeen.Load() {
		return
	}
	rep := s.reloadVendors(ctx)
	if len(rep.Errors) > 0 {
		s.cfg.Log.Warn("reload after another replica's: kept the previous version of what failed", "errors", rep.Errors)
	} else {
		s.cfg.Log.Info("reloaded after another replica's reload", "parts", rep.Reloaded)
	}
	s.fixturesSeen.Store(version)
}
