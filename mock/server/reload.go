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
