package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/idpmock/idpmock/mock/server"
)

func logFlags(fs *flag.FlagSet) (level, format *string) {
	level = fs.String("log-level", "info", "log level: debug, info (one line per request), warn, error")
	format = fs.String("log-format", "auto", "log format on stderr: auto (human-readable, coloured on a terminal), text (logfmt) or json")
	return level, format
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Errorf("--log-level: %w", err)}
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "auto", "":
		return slog.New(&humanHandler{w: w, level: lv, color: isTerminal(w), mu: &sync.Mutex{}}), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageError{fmt.Errorf("--log-format %q: want auto, text or json", format)}
}

// isTerminal reports whether w is a character device (a terminal), and
// colour is wanted (NO_COLOR unset, TERM not dumb).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// humanHandler writes one short line per record:
//
//	19:04:05 INFO  POST /v2/sessions  SessionService_CreateSession  201  1.2ms
//	19:04:06 INFO  message key=value ...
type humanHandler struct {
	w     io.Writer
	level slog.Level
	color bool
	attrs []slog.Attr
	mu    *sync.Mutex
}

func (h *humanHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }
func (h *humanHandler) WithGroup(string) slog.Handler                { return h }
func (h *humanHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr{}, h.attrs...), as...)
	return &c
}

const (
	red, green, yellow, cyan, dim, reset = "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[36m", "\x1b[2m", "\x1b[0m"
)

func (h *humanHandler) paint(color, s string) string {
	if !h.color {
		return s
	}
	return color + s + reset
}

func (h *humanHandler) Handle(_ context.Context, r slog.Record) error {
	var b bytes.Buffer
	b.WriteString(h.paint(dim, r.Time.Format("15:04:05")))
	b.WriteByte(' ')
	lv := fmt.Sprintf("%-5s", r.Level.String())
	switch {
	case r.Level >= slog.LevelError:
		lv = h.paint(red, lv)
	case r.Level >= slog.LevelWarn:
		lv = h.paint(yellow, lv)
	default:
		lv = h.paint(cyan, lv)
	}
	b.WriteString(lv)
	b.WriteByte(' ')
	attrs := append([]slog.Attr{}, h.attrs...)
	r.Attrs(func(a slog.Attr) bool { attrs = append(attrs, a); return true })
	if r.Message == "request" {
		h.request(&b, attrs)
	} else {
		b.WriteString(r.Message)
		for _, a := range attrs {
			fmt.Fprintf(&b, " %s=%s", a.Key, quote(a.Value.Resolve().String()))
		}
	}
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.w.Write(b.Bytes())
	return err
}

// request lays out the server's per-request line: method, path,
// operation, status, duration, then anything else (invalid fields, override).
func (h *humanHandler) request(b *bytes.Buffer, attrs []slog.Attr) {
	get := map[string]string{}
	var rest []slog.Attr
	for _, a := range attrs {
		switch a.Key {
		case "method", "path", "operation", "status", "duration":
			v := a.Value.Resolve()
			if v.Kind() == slog.KindDuration {
				get[a.Key] = roundDuration(v.Duration()).String()
			} else {
				get[a.Key] = v.String()
			}
		default:
			rest = append(rest, a)
		}
	}
	status := get["status"]
	switch {
	case strings.HasPrefix(status, "5"):
		status = h.paint(red, status)
	case strings.HasPrefix(status, "4"):
		status = h.paint(yellow, status)
	default:
		status = h.paint(green, status)
	}
	op := get["operation"]
	if op == "" {
		op = "-"
	}
	fmt.Fprintf(b, "%s %s  %s  %s  %s", get["method"], get["path"], op, status, get["duration"])
	for _, a := range rest {
		fmt.Fprintf(b, "  %s=%s", a.Key, quote(a.Value.Resolve().String()))
	}
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

func quote(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\n\"=") {
		return fmt.Sprintf("%q", s)
	}
	return s
}

// banner logs where everything is, once the listener is open.
func banner(log *slog.Logger, srv *server.Server, addr net.Addr, fixturesDir string, startup time.Duration) {
	base := "http://" + addr.String()
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		base = fmt.Sprintf("http://127.0.0.1:%d", tcp.Port)
	}
	fixtures := "embedded"
	if fixturesDir != "" {
		fixtures = fixturesDir
	}
	log.Info("ready", "addr", addr.String(), "url", base, "fixtures", fixtures, "store", srv.Stores().String(), "startup", startup.Round(time.Millisecond).String(), "version", readBuildInfo().Version)
	for _, ep := range srv.Endpoints() {
		urls := make([]string, len(ep.Paths))
		for i, p := range ep.Paths {
			urls[i] = base + p
		}
		log.Info("serving "+ep.Vendor, "base", strings.Join(urls, " "))
	}
	if p := srv.AdminPath(); p != "" {
		log.Info("control API", "url", base+p, "dashboard", base+p+"ui/", "home", base+"/")
	}
}
