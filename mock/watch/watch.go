// Package watch calls a function when files under some directories change,
// debounced so an editor's burst of writes (temp file, rename, chmod)
// triggers one reload.
package watch

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Dirs watches dirs and their subdirectories (new ones included) and calls
// fn once per burst of changes, quiet for debounce. It returns once the
// watch is set up; the watch ends with ctx.
func Dirs(ctx context.Context, log *slog.Logger, debounce time.Duration, fn func(), dirs ...string) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	seen := map[string]bool{}
	addTree := func(root string) error {
		return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && !seen[p] {
				if err := w.Add(p); err != nil {
					return err
				}
				seen[p] = true
			}
			return nil
		})
	}
	for _, d := range dirs {
		if err := addTree(d); err != nil {
			_ = w.Close()
			return fmt.Errorf("watch %s: %w", d, err)
		}
	}
	go func() {
		defer w.Close()
		var timer *time.Timer
		var fire <-chan time.Time
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if ev.Has(fsnotify.Create) {
					if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() {
						_ = addTree(ev.Name)
					}
				}
				if timer == nil {
					timer = time.NewTimer(debounce)
				} else {
					timer.Reset(debounce)
				}
				fire = timer.C
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				log.Warn("watch", "err", err)
			case <-fire:
				fire = nil
				fn()
			}
		}
	}()
	return nil
}
