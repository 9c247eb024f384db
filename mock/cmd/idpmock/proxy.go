package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/idpmock/idpmock/mock"
	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/journal"
	"github.com/idpmock/idpmock/mock/proxy"
	"github.com/idpmock/idpmock/mock/server"
)

// proxyCmd runs `idpmock proxy --upstream URL [--record DIR]`.
func proxyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	fs := newFlags("proxy", stdout, stderr)
	addrOf := addrFlags(fs, "127.0.0.1:4011", "listen address")
	upstream := fs.String("upstream", "", "the real vendor's origin `URL`, e.g. https://api.pingone.com or https://my-instance.zitadel.cloud (required)")
	// No backquotes in usage texts: flag takes them as the argument's name.
	record := fs.String("record", "", "write upstream answers (secrets redacted) as override rules into `DIR`; serve them with 'idpmock serve --overrides DIR/overrides.json'")
	blocking := fs.Bool("errors", false, "block violations: answer invalid requests without forwarding them, and replace off-spec upstream answers by the vendor's 500")
	only := fs.String("vendor", "", "check against this vendor's spec only (default: every vendor, chosen by path)")
	journalSize := fs.Int("journal-size", journal.DefaultSize, journalSizeUsage)
	redact := fs.Bool("redact", true, "hide credentials in the journal")
	adminToken := fs.String("admin-token", "", "require \"Authorization: Bearer <token>\" on /__mock/")
	timeout := fs.Duration("upstream-timeout", 60*time.Second, "how long to wait for the upstream's answer")
	logLevel, logFormat := logFlags(fs)
	var vendors mock.Config
	vendors.RegisterFlags(fs)
	if err := parse(fs, args); err != nil {
		return helpOK(err)
	}
	addr, err := addrOf()
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		return err
	}
	if *upstream == "" {
		return usageError{errors.New("proxy: --upstream URL is required")}
	}
	up, err := url.Parse(*upstream)
	if err != nil {
		return fmt.Errorf("--upstream: %w", err)
	}
	deps := server.Deps{Clock: clock.New(), Log: log}
	var vs []server.Vendor
	var names []string
	for _, f := range mock.Vendors(vendors) {
		v, err := f(deps)
		if err != nil {
			return err
		}
		names = append(names, v.Name())
		if *only == "" || v.Name() == *only {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return fmt.Errorf("--vendor %q: want one of %s", *only, strings.Join(names, ", "))
	}
	cfg := proxy.Config{Upstream: up, Vendors: vs, Log: log, Errors: *blocking, KeepSecrets: !*redact,
		Client: &http.Client{Timeout: *timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		Admin:  server.AdminConfig{Token: *adminToken}}
	if *journalSize >= 0 { // as in server.Config: 0 is the default size
		cfg.Journal = journal.New(*journalSize)
	}
	if *record != "" {
		if cfg.Recorder, err = proxy.NewRecorder(*record); err != nil {
			return err
		}
	}
	p, err := proxy.New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	hs := &http.Server{Handler: p, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	checked := make([]string, 0, len(vs))
	for _, v := range vs {
		checked = append(checked, v.Name())
	}
	slices.Sort(checked)
	log.Info("idpmock proxy listening", "addr", ln.Addr().String(), "upstream", up.String(), "specs", strings.Join(checked, ","), "record", *record, "errors", *blocking)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
