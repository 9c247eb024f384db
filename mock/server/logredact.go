package server

import (
	"context"
	"log/slog"

	"github.com/idpmock/idpmock/mock/journal"
)

// redactHandler hides the values of log attributes whose keys name a
// secret (password, code, ...token, ...) before they reach the real
// handler, so no log line carries a credential unless --redact=false.
type redactHandler struct {
	inner slog.Handler
	r     *journal.Redactor
}

func (h redactHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, rec.Message, rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.inner.Handle(ctx, out)
}

func (h redactHandler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = h.attr(a)
	}
	return redactHandler{inner: h.inner.WithAttrs(red), r: h.r}
}

func (h redactHandler) WithGroup(name string) slog.Handler {
	return redactHandler{inner: h.inner.WithGroup(name), r: h.r}
}

func (h redactHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		g := v.Group()
		red := make([]any, len(g))
		for i, c := range g {
			red[i] = h.attr(c)
		}
		return slog.Group(a.Key, red...)
	}
	if h.r.Secret(a.Key) {
		return slog.String(a.Key, journal.Redacted)
	}
	return slog.Attr{Key: a.Key, Value: v}
}
