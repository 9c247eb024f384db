package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/idpmock/idpmock/mock"
	"github.com/idpmock/idpmock/mock/server"
)

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	started := time.Now()
	fs := newFlags("serve", stdout, stderr)
	var cfg server.Config
	addr := addrFlags(fs, "127.0.0.1:4010", "`host:port` to listen on (0.0.0.0:4010 accepts other hosts)")
	fixturesDir := fs.String("fixtures", "", "fixtures `DIR` (one folder per vendor) replacing the embedded fixtures")
	logLevel, logFormat := logFlags(fs)
	fs.BoolVar(&cfg.Strict, "strict", false, "validate every response against the spec; a violation becomes a 500")
	fs.BoolVar(&cfg.CORS, "cors", true, "answer CORS preflights and echo the Origin, with credentials")
	fs.Int64Var(&cfg.BodyLimit, "body-limit", 1<<20, "largest request body in bytes (413 past it)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "how long in-flight requests may drain on SIGTERM")
	fs.DurationVar(&cfg.ReadTimeout, "read-timeout", 30*time.Second, "longest time to read a request, headers and body")
	fs.DurationVar(&cfg.WriteTimeout, "write-timeout", 60*time.Second, "longest time from the end of the request headers to the end of the answer (keep it above override delays)")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", 120*time.Second, "how long an idle keep-alive connection stays open")
	fs.IntVar(&cfg.MaxSessions, "max-sessions", server.DefaultMaxSessions, "sessions stored per PingOne environment and per ZITADEL instance before creates fail (-1: no cap)")
	fs.IntVar(&cfg.MaxTotalSessions, "max-total-sessions", server.DefaultMaxTotalSessions, "sessions stored by all vendors in all environments and instances together before creates fail, a bound on memory (-1: no cap)")
	applyControl := controlFlags(fs)
	var vendors mock.Config
	vendors.RegisterFlags(fs)
	if err := parse(fs, args); err != nil {
		return helpOK(err)
	}
	var err error
	if cfg.Addr, err = addr(); err != nil {
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
	if err := applyControl(&cfg, *fixturesDir); err != nil {
		return err
	}
	srv, err := server.New(ctx, cfg, mock.Vendors(vendors)...)
	if err != nil {
		return err
	}
	return srv.Run(ctx, func(a net.Addr) {
		banner(log, srv, a, *fixturesDir, time.Since(started))
	})
}
