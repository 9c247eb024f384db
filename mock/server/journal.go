package server

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/journal"
)

// maxJournalBody caps the body kept per journal entry.
const maxJournalBody = 64 << 10

// responseRedactor hides the secrets of answers (tokens) but keeps their
// error codes.
var responseRedactor = journal.DefaultRedactor.ForResponses()

// journalRequests records every vendor request and its answer (admin,
// health and home page calls are not journaled). Secrets are redacted before storing.
func (s *Server) journalRequest(c echo.Context, next echo.HandlerFunc) error {
	{
		req := c.Request()
		if s.journal == nil || isAdminPath(req.URL.Path) || req.URL.Path == "/healthz" || req.URL.Path == "/" {
			return s.validateRequest(c, next)
		}
		start := time.Now()
		var raw []byte
		ex := ExchangeOf(c)
		if ex.bodyRead {
			raw = ex.Body
		} else if req.Body != nil && req.Body != http.NoBody {
			raw, _ = io.ReadAll(io.LimitReader(req.Body, maxJournalBody+1))
			req.Body = readCloser{io.MultiReader(bytes.NewReader(raw), req.Body), req.Body}
		}
		e := journal.Entry{
			At: start.UTC(), Clock: clock.Now(req.Context(), s.clock), Method: req.Method, Path: req.URL.Path,
			Query: s.redact.Query(req.URL.RawQuery), Header: s.redact.Header(req.Header),
			Protocol: journal.ProtocolOf(req.Context()), Procedure: journal.ProcedureOf(req.Context()),
		}
		if ex.BodyErr != nil {
			e.Body = fmt.Sprintf("[body over %d bytes, not kept]", s.cfg.BodyLimit)
		} else if len(raw) > maxJournalBody {
			e.Body = fmt.Sprintf("[body over %d bytes, not kept]", maxJournalBody)
		} else {
			e.SetBody(req.Header.Get("Content-Type"), raw, s.redact)
		}
		// The answer is teed as it is written, for the journal to show.
		// One value holds the entry, the tee and the recording, so
		// journaling costs one allocation rather than one per part.
		jr := &journalRecord{s: s, c: c, e: e, start: start}
		jr.tee.ResponseWriter = c.Response().Writer
		c.Response().Writer = &jr.tee
		ex.journal = jr
		// The entry is recorded after the render step has written the
		// answer (finishExchange), except for a deliberate drop, which
		// never reaches it.
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					jr.record(r)
				}
				panic(r)
			}
		}()
		return s.validateRequest(c, next)
	}
}

// journalRecord is one request's journal entry on its way to the journal.
type journalRecord struct {
	s        *Server
	c        echo.Context
	e        journal.Entry
	tee      teeWriter
	start    time.Time
	recorded bool
}

// record adds the entry once: before a dropped connection closes (so a
// client that sees the drop can read the journal and find it), or when
// the handler returns. r is what the handler panicked with, if it did.
func (jr *journalRecord) record(r any) {
	if jr.recorded {
		return
	}
	jr.recorded = true
	s, c, e := jr.s, jr.c, &jr.e
	req := c.Request()
	ex := ExchangeOf(c)
	e.Duration = time.Since(jr.start)
	e.Operation, e.Problem = ex.Operation, ex.Problem
	e.Override, e.Prefer, e.Fault = ex.Override, ex.Prefer, ex.Fault
	if m := s.owner(req.URL.Path); m != nil {
		e.Vendor = m.vendor.Name()
	}
	switch {
	case r == nil && s.goneBeforeAnswer(c, c.Response().Status):
		e.Status, e.Fault = 0, faultClientGone // no answer anyone reads
	case r == http.ErrAbortHandler || e.Fault != "":
		e.Status, e.Fault = 0, "drop"
	case r != nil:
		e.Status = http.StatusInternalServerError
	default:
		e.Status = c.Response().Status
	}
	switch {
	case e.Operation == "":
		e.Nearest = s.nearest(req.Method, req.URL.Path)
	case e.Problem != nil:
		e.Nearest = invalidNearest(e.Vendor, e.Operation, req.Method, specPath(c.Path()), e.Problem)
	}
	if e.Status != 0 {
		var r *journal.Redactor
		if s.redact != nil {
			r = responseRedactor
		}
		e.SetResponse(c.Response().Header().Clone(), jr.tee.body, r)
	}
	if !s.journal.Shared() {
		s.journal.Add(*e)
		return
	}
	// Recorded even when the client has left: its answer may be complete.
	if _, err := s.journal.AddContext(context.WithoutCancel(req.Context()), *e); err != nil {
		s.cfg.Log.Warn("journal: entry not recorded", "method", e.Method, "path", e.Path, "err", err)
	}
}

// teeWriter keeps a copy of the first maxJournalBody bytes of the answer.
// It forwards Flush, Hijack (the drop fault) and Unwrap.
type teeWriter struct {
	http.ResponseWriter
	body []byte
}

func (t *teeWriter) Write(p []byte) (int, error) {
	if room := maxJournalBody - len(t.body); room > 0 {
		t.body = append(t.body, p[:min(room, len(p))]...)
	}
	return t.ResponseWriter.Write(p)
}

func (t *teeWriter) Flush() {
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (t *teeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(t.ResponseWriter).Hijack()
}

func (t *teeWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

type readCloser struct {
	io.Reader
	io.Closer
}
