package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/idpmock/idpmock/mock"
	"github.com/idpmock/idpmock/mock/server"
)

// serveFlags holds what `idpmock serve` reads from its flags.
type serveFlags struct {
	cfg                 server.Config
	addr                func() (string, error)
	fixturesDir         *string
	logLevel, logFormat *string
	applyControl        func(cfg *server.Config, fixturesDir string) error
	vendors             mock.Config
}

// newServeFlags registers every flag of serve on fs, each defaulting to its
// field of server.DefaultConfig (TestFlagDefaults checks it).
func newServeFlags(fs *flag.FlagSet) *serveFlags {
	f := &serveFlags{cfg: server.DefaultConfig()}
	cfg := &f.cfg
	f.addr = addrFlags(fs, cfg.Addr, "`host:port` to listen on (0.0.0.0:4010 accepts other hosts)")
	f.fixturesDir = fs.String("fixtures", cfg.FixturesDir, "fixtures `DIR` (one folder per vendor) replacing the embedded fixtures")
	f.logLevel, f.logFormat = logFlags(fs)
	fs.BoolVar(&cfg.Strict, "strict", cfg.Strict, "validate every response against the spec; a violation becomes a 500")
	fs.BoolVar(&cfg.CORS, "cors", cfg.CORS, "answer CORS preflights and echo the Origin, with credentials")
	fs.Int64Var(&cfg.BodyLimit, "body-limit", cfg.BodyLimit, "largest request body in bytes (413 past it)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "how long in-flight requests may drain on SIGTERM")
	fs.DurationVar(&cfg.ReadTimeout, "read-timeout", cfg.ReadTimeout, "longest time to read a request, headers and body")
	fs.DurationVar(&cfg.WriteTimeout, "write-timeout", cfg.WriteTimeout, "longest time from the end of the request headers to the end of the answer (keep it above override delays)")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", cfg.IdleTimeout, "how long an idle keep-alive connection stays open")
	fs.IntVar(&cfg.MaxSessions, "max-sessions", cfg.MaxSessions, "sessions stored per PingOne environment and per ZITADEL instance before creates fail (-1: no cap)")
	fs.IntVar(&cfg.MaxTotalSessions, "max-total-sessions", cfg.MaxTotalSessions, "sessions stored by all vendors in all environments and instances together before creates fail, a bound on memory (-1: no cap)")
	fs.StringVar(&cfg.Store, "store", cfg.Store, "where the state lives: memory (this process) or a `URL` redis://[user:pass@]host:port/db (also rediss://) to share sessions, clock, overrides and journal with other replicas")
	fs.StringVar(&cfg.StorePrefix, "store-prefix", cfg.StorePrefix, "with a Redis --store: prefix of every key, so several mocks can share one Redis")
	f.applyControl = controlFlags(fs, *cfg)
	f.vendors.RegisterFlags(fs)
	return f
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	started := time.Now()
	fs := newFlags("serve", stdout, stderr)
	sf := newServeFlags(fs)
	cfg, fixturesDir, logLevel, logFormat := &sf.cfg, sf.fixturesDir, sf.logLevel, sf.logFormat
	if err := parse(fs, args); err != nil {
		return helpOK(err)
	}
	var err error
	if cfg.Addr, err = sf.addr(); err != nil {
		return err
	}
	log, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		return err
	}
	cfg.Log = log
	if *fixturesDir != "" {
		st, err := os.Stat(*fixturesDir)
		if err != nil || !st.IsDir() {
			return fmt.Errorf("--fixtures %q: not a directory", *fixturesDir)
		}
	}
	if err := sf.applyControl(cfg, *fixturesDir); err != nil {
		return err
	}
	srv, err := server.New(ctx, *cfg, mock.Vendors(sf.vendors)...)
	if err != nil {
		return err
	}
	return srv.Run(ctx, func(a net.Addr) {
		banner(log, srv, a, *fixturesDir, time.Since(started))
	})
}
