package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/idpmock/idpmock/mock/server"
)

// controlFlags registers the flags of the control machinery (admin API,
// overrides, journal, hot reload) on fs. After parsing, call the returned
// function with the config and the --fixtures directory. Defaults come
// from def (server.DefaultConfig on the command line).
//
//	apply := controlFlags(fs, server.DefaultConfig())
//	... parse(fs, args) ...
//	if err := apply(&cfg, *fixturesDir); err != nil { return err }
func controlFlags(fs *flag.FlagSet, def server.Config) func(cfg *server.Config, fixturesDir string) error {
	adminOn := fs.Bool("admin", !def.Admin.Disabled, "serve the control API under /__mock/")
	token := fs.String("admin-token", def.Admin.Token, "require \"Authorization: Bearer <token>\" on the control API")
	offSpec := fs.Bool("allow-off-spec", def.AllowOffSpec, "let overrides answer statuses and bodies the vendor's spec does not declare")
	journalSize := fs.Int("journal-size", def.JournalSize, journalSizeUsage)
	adminCORS := fs.String("admin-cors", "", "comma-separated browser `ORIGINS` (https://app.example:3000) allowed to call the control API; default none")
	redact := fs.Bool("redact", !def.KeepSecrets, "hide credentials (Authorization, cookies, passwords, OTP codes, tokens) in the journal")
	watch := fs.Bool("watch", def.Watch, "with --fixtures: reload fixtures and overrides.json on change, keeping state")
	overrides := fs.String("overrides", "", "overrides file loaded at start and on reload (default: <fixtures>/overrides.json)")
	state := fs.String("state", "", "state document (saved from GET /__mock/state) loaded at start, never written (a seed)")
	stateFile := fs.String("state-file", "", "keep state across restarts in this file: loaded at start if it exists (else --state seeds it), each change appended to FILE.log and fsynced within ~100ms, the log compacted onto FILE in the background")
	stateLogMax := fs.Int64("state-log-max", def.PersistLogMax, "with --state-file: compact FILE.log onto FILE once it exceeds this many bytes (0: the snapshot's size, at least 8 MiB)")
	return func(cfg *server.Config, fixturesDir string) error {
		cfg.Admin = server.AdminConfig{Disabled: !*adminOn, Token: *token}
		cfg.AllowOffSpec = *offSpec
		cfg.JournalSize = *journalSize // 0: the default, negative: off, as in Config
		for _, o := range strings.Split(*adminCORS, ",") {
			if o = strings.TrimSpace(o); o != "" {
				if !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
					return usageError{fmt.Errorf("--admin-cors %q: want origins like https://app.example:3000", o)}
				}
				cfg.Admin.CORSOrigins = append(cfg.Admin.CORSOrigins, strings.TrimSuffix(o, "/"))
			}
		}
		cfg.KeepSecrets = !*redact
		cfg.FixturesDir = fixturesDir
		cfg.Watch = *watch
		cfg.OverridesFile = *overrides
		cfg.StateFile = *state
		cfg.PersistFile = *stateFile
		cfg.PersistLogMax = *stateLogMax
		if cfg.Watch && fixturesDir == "" {
			return errors.New("--watch needs --fixtures DIR")
		}
		return nil
	}
}
