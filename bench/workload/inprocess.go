package workload

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/idpmock/idpmock/mock"
	"github.com/idpmock/idpmock/mock/server"
)

// NewMock builds the mock as the idpmock command does by default (every
// vendor, CORS on, journal on, secrets redacted, strict mode off).
func NewMock(ctx context.Context) (*server.Server, error) {
	return server.New(ctx, server.Config{CORS: true}, mock.Vendors(mock.Config{})...)
}

// Route is one fixed answer of the baseline.
type Route struct {
	Method      string `json:"method"`
	Pattern     string `json:"pattern"`
	Status      int    `json:"status"`
	ContentType string `json:"contentType"`
	Body        []byte `json:"body"`
}

// healthBody is what the mock's /healthz answers.
var healthBody = []byte("{\"status\":\"ok\"}\n")

// Baseline is a bare Echo server: the same routes as the mock, each
// answering fixed bytes, with no validation, state or middleware.
func Baseline(routes []Route) http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/healthz", func(c echo.Context) error { return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, healthBody) })
	for _, rt := range routes {
		e.Add(rt.Method, rt.Pattern, func(c echo.Context) error { return c.Blob(rt.Status, rt.ContentType, rt.Body) })
	}
	return e
}

// Handler drives an http.Handler in-process, as net/http would.
type Handler struct {
	H http.Handler
	w responseWriter
}

// Do serves req and returns the status and body (valid until the next Do).
func (h *Handler) Do(req Request) (int, []byte, http.Header, error) {
	var body *bytes.Reader
	r, err := http.NewRequest(req.Method, "http://127.0.0.1:4010"+req.Path, nil)
	if err != nil {
		return 0, nil, nil, err
	}
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
		r.Body = readCloser{body}
		r.ContentLength = int64(len(req.Body))
		r.Header.Set("Content-Type", req.ContentType)
	}
	r.Header.Set("Authorization", Bearer)
	r.Header.Set("Accept", "application/json")
	r.RemoteAddr = "127.0.0.1:50000"
	if strings.HasPrefix(req.ContentType, "application/grpc") {
		r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0 // gRPC is HTTP/2 only
		r.Header.Set("Te", "trailers")
	}
	h.w.reset()
	h.H.ServeHTTP(&h.w, r)
	if h.w.status == 0 {
		h.w.status = http.StatusOK
	}
	return h.w.status, h.w.body.Bytes(), h.w.header, nil
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

type responseWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *responseWriter) reset() {
	if w.header == nil {
		w.header = http.Header{}
	}
	clear(w.header)
	w.status = 0
	w.body.Reset()
}

func (w *responseWriter) Header() http.Header { return w.header }

// Flush is a no-op, as net/http's writers are Flushers (the RPC faces'
// transcoder needs one).
func (w *responseWriter) Flush() {}
func (w *responseWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

// Fill creates n sessions per vendor through h (REST for ZITADEL) and adds
// their ids to p.
func Fill(h *Handler, p *Pools, n int, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, 1))
	for _, name := range []string{"pingone-create", "zitadel-rest-create"} {
		op := ByName(name)
		for i := 0; i < n; i++ {
			st, body, _, err := h.Do(op.Build(p, r))
			if err != nil {
				return err
			}
			if st != op.Status {
				return fmt.Errorf("%s: status %d: %.300s", op.Name, st, body)
			}
			if err := p.Add(op, body); err != nil {
				return err
			}
		}
	}
	return nil
}

// Capture sends each op once through h and keeps its answer, for the
// baseline to send the same bytes.
func Capture(h *Handler, p *Pools) ([]Route, error) {
	r := rand.New(rand.NewPCG(7, 7))
	var out []Route
	seen := map[string]bool{}
	for _, op := range Ops {
		st, body, hdr, err := h.Do(op.Build(p, r))
		if err != nil {
			return nil, err
		}
		if st != op.Status {
			return nil, fmt.Errorf("%s: status %d, want %d: %.300s", op.Name, st, op.Status, body)
		}
		if seen[op.Method+" "+op.Pattern] {
			continue // one fixed answer per route: the first op's (JSON)
		}
		seen[op.Method+" "+op.Pattern] = true
		out = append(out, Route{Method: op.Method, Pattern: op.Pattern, Status: st,
			ContentType: hdr.Get("Content-Type"), Body: bytes.Clone(body)})
	}
	return out, nil
}
