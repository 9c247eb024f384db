package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock/server"
)

// Every flag of serve defaults to its field of server.DefaultConfig, and a
// serve with no flags runs exactly DefaultConfig. A new flag must be added
// to the table: either with its Config field or as not a Config field.
func TestFlagDefaults(t *testing.T) {
	d := server.DefaultConfig()
	want := map[string]any{ // flag -> the DefaultConfig value; nil: not a Config field
		"addr": d.Addr, "strict": d.Strict, "cors": d.CORS, "body-limit": d.BodyLimit,
		"shutdown-timeout": d.ShutdownTimeout, "read-timeout": d.ReadTimeout, "write-timeout": d.WriteTimeout,
		"idle-timeout": d.IdleTimeout, "max-sessions": d.MaxSessions, "max-total-sessions": d.MaxTotalSessions,
		"admin": !d.Admin.Disabled, "admin-token": d.Admin.Token, "allow-off-spec": d.AllowOffSpec,
		"journal-size": d.JournalSize, "redact": !d.KeepSecrets, "watch": d.Watch, "overrides": d.OverridesFile,
		"state": d.StateFile, "state-file": d.PersistFile, "state-log-max": d.PersistLogMax, "fixtures": d.FixturesDir,
		"admin-cors": strings.Join(d.Admin.CORSOrigins, ","), "store": d.Store, "store-prefix": d.StorePrefix,
		"port": nil, "log-level": nil, "log-format": nil,
		"pingone-base-url": nil, "pingone-known-environments-only": nil,
	}
	fs := newFlags("serve", &bytes.Buffer{}, &bytes.Buffer{})
	sf := newServeFlags(fs)
	seen := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) {
		seen[f.Name] = true
		w, ok := want[f.Name]
		switch {
		case !ok:
			t.Errorf("--%s is not in the table: say which Config field it sets", f.Name)
		case w != nil && fmt.Sprint(w) != f.DefValue:
			t.Errorf("--%s defaults to %q, server.DefaultConfig has %v", f.Name, f.DefValue, w)
		}
	})
	for name := range want {
		if !seen[name] {
			t.Errorf("the table lists --%s, which serve does not have", name)
		}
	}
	if err := parse(fs, nil); err != nil {
		t.Fatal(err)
	}
	addr, err := sf.addr()
	if err != nil {
		t.Fatal(err)
	}
	sf.cfg.Addr = addr
	if err := sf.applyControl(&sf.cfg, *sf.fixturesDir); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sf.cfg, d) {
		t.Errorf("serve without flags runs\n%+v\nwant server.DefaultConfig\n%+v", sf.cfg, d)
	}
}

// The flag tables of docs/reference.md and docs/control.md give the same
// defaults as the flags (a row names one flag or several, and its default
// cell one backquoted value per flag; prose defaults such as "none" are
// checked to be an empty or zero default).
func TestDocumentedDefaults(t *testing.T) {
	fs := newFlags("serve", &bytes.Buffer{}, &bytes.Buffer{})
	newServeFlags(fs)
	row := regexp.MustCompile("^\\| (`--[^|]+) \\| ([^|]+) \\|")
	flagName := regexp.MustCompile("`--([a-z-]+)")
	code := regexp.MustCompile("`([^`]*)`")
	documented := map[string]bool{}
	for _, doc := range []string{"../../../docs/reference.md", "../../../docs/control.md"} {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			m := row.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			names := flagName.FindAllStringSubmatch(m[1], -1)
			vals := code.FindAllStringSubmatch(m[2], -1)
			if strings.TrimSpace(code.ReplaceAllString(strings.ReplaceAll(m[2], ",", ""), "")) != "" {
				vals = nil // prose such as "request's scheme+host+`/v1`": a derived default
			}
			for i, n := range names {
				f := fs.Lookup(n[1])
				if f == nil {
					t.Errorf("%s documents --%s, which serve does not have", doc, n[1])
					continue
				}
				documented[n[1]] = true
				switch {
				case len(vals) == len(names):
					if !sameDefault(vals[i][1], f.DefValue) {
						t.Errorf("%s: --%s defaults to %q, the flag to %q", doc, n[1], vals[i][1], f.DefValue)
					}
				case len(vals) == 0 && f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false":
					t.Errorf("%s: --%s is documented as %q, the flag defaults to %q", doc, n[1], strings.TrimSpace(m[2]), f.DefValue)
				}
			}
		}
	}
	fs.VisitAll(func(f *flag.Flag) {
		if !documented[f.Name] {
			t.Errorf("--%s is in no flag table of docs/reference.md or docs/control.md", f.Name)
		}
	})
}

// sameDefault compares a documented default with a flag's: "60s" is "1m0s".
func sameDefault(doc, def string) bool {
	if doc == def {
		return true
	}
	a, errA := time.ParseDuration(doc)
	b, errB := time.ParseDuration(def)
	return errA == nil && errB == nil && a == b
}
