// Package proxy is idpmock's proxy mode (`idpmock proxy --upstream URL`):
// it forwards every request to the real vendor, validates the request and
// the upstream response against the vendor's spec, and reports what broke
// the contract in the X-Idpmock-Violations response header and the
// journal, as Prism's proxy does with sl-violations. Optionally it records
// the upstream answers, secrets redacted, as an overrides file the mock
// then serves (see Recorder).
package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"github.com/idpmock/idpmock/mock/admin"
	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/conform"
	"github.com/idpmock/idpmock/mock/journal"
	"github.com/idpmock/idpmock/mock/override"
	"github.com/idpmock/idpmock/mock/problem"
	"github.com/idpmock/idpmock/mock/server"
)

// HeaderOperation names the operation the proxy matched.
const HeaderOperation = "X-Idpmock-Operation"

// Config configures a proxy.
type Config struct {
	// Upstream is the vendor's origin, e.g. https://api.pingone.com or
	// https://my-instance.zitadel.cloud; request paths are appended as
	// they come (/v1/..., /v2/..., /zitadel.session.v2.SessionService/...).
	Upstream *url.URL
	// Vendors give the specs, mount points and error formats.
	Vendors []server.Vendor
	Log     *slog.Logger
	// Journal records each exchange; nil turns it off.
	Journal *journal.Journal
	// KeepSecrets stores credentials in the journal as sent.
	KeepSecrets bool
	// Recorder, if set, receives every upstream answer of a known operation.
	Recorder *Recorder
	// Errors makes violations blocking, as Prism's --errors: an invalid
	// request is answered by the proxy in the vendor's format and never
	// forwarded; an off-spec upstream response becomes the vendor's 500.
	Errors bool
	// Client sends upstream requests (default: a client with timeouts).
	Client *http.Client
	// BodyLimit caps request and response bodies (default 10 MiB).
	BodyLimit int64
	// Admin configures the read-mostly control API (journal) under /__mock/.
	Admin server.AdminConfig
}

// Proxy is an http.Handler.
type Proxy struct {
	cfg     Config
	checker *conform.Checker
	vendors map[string]server.Vendor
	redact  *journal.Redactor
	echo    *echo.Echo
}

// New builds a proxy.
func New(cfg Config) (*Proxy, error) {
	if cfg.Upstream == nil || cfg.Upstream.Scheme == "" || cfg.Upstream.Host == "" {
		return nil, errors.New("proxy: --upstream must be an absolute URL such as https://api.pingone.com")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{
			Timeout: 60 * time.Second,
			// Redirects are the client's business: pass them through.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if cfg.BodyLimit == 0 {
		cfg.BodyLimit = 10 << 20
	}
	p := &Proxy{cfg: cfg, vendors: map[string]server.Vendor{}}
	if !cfg.KeepSecrets {
		p.redact = journal.DefaultRedactor
	}
	var specs []conform.Spec
	for _, v := range cfg.Vendors {
		doc, err := v.Spec()
		if err != nil {
			return nil, fmt.Errorf("%s spec: %w", v.Name(), err)
		}
		specs = append(specs, conform.Spec{Vendor: v.Name(), Doc: doc, BasePath: v.BasePath()})
		p.vendors[v.Name()] = v
	}
	ch, err := conform.New(specs...)
	if err != nil {
		return nil, err
	}
	p.checker = ch
	if cfg.Recorder != nil {
		cfg.Recorder.checker = ch
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	if !cfg.Admin.Disabled {
		if err := admin.Register(e, &backend{p: p, clock: clock.New(), set: override.NewSet()}, admin.Options{Token: cfg.Admin.Token}); err != nil {
			return nil, err
		}
	}
	e.Any("/*", p.forward)
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		if !c.Response().Committed {
			_ = admin.WriteError(c, toProblem(err))
		}
	}
	p.echo = e
	return p, nil
}

func toProblem(err error) *problem.Problem {
	var p *problem.Problem
	if errors.As(err, &p) {
		return p
	}
	var he *echo.HTTPError
	if errors.As(err, &he) && he.Code == http.StatusNotFound {
		return problem.New(problem.NotFound, "%v", he.Message)
	}
	return &problem.Problem{Kind: problem.Internal, Message: err.Error(), Err: err}
}

// ServeHTTP serves the proxy.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.echo.ServeHTTP(w, r) }

// Journal is the proxy's journal (nil when off).
func (p *Proxy) Journal() *journal.Journal { return p.cfg.Journal }

// hopHeaders are connection-scoped and never forwarded (RFC 9110 §7.6.1).
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func (p *Proxy) forward(c echo.Context) error {
	start := time.Now()
	r := c.Request()
	ctx := r.Context()
	reqBody, err := readLimited(r.Body, p.cfg.BodyLimit)
	if err != nil {
		return p.fail(c, nil, problem.New(problem.TooLarge, "request body: %v", err))
	}
	entry := journal.Entry{At: start.UTC(), Clock: start.UTC(), Method: r.Method, Path: r.URL.Path,
		Query: p.redact.Query(r.URL.RawQuery), Header: p.redact.Header(r.Header),
		Body: p.redact.Body(r.Header.Get(echo.HeaderContentType), reqBody)}
	var violations []conform.Violation
	m, matched := p.checker.Match(r.Method, r.URL)
	var vendor server.Vendor
	var in *openapi3filter.RequestValidationInput
	var reqProblem *problem.Problem
	if matched {
		vendor = p.vendors[m.Vendor]
		entry.Vendor, entry.Operation = m.Vendor, m.Operation
		c.Response().Header().Set(HeaderOperation, m.Operation)
		in, reqProblem = p.checkRequest(ctx, m, vendor, r, reqBody)
		violations = append(violations, conform.Violations(reqProblem, "request")...)
		if reqProblem != nil && p.cfg.Errors {
			entry.Problem = reqProblem
			return p.answerProblem(c, vendor, reqProblem, violations, &entry, start)
		}
	} else {
		violations = append(violations, conform.Violation{In: "request", Rule: "operation",
			Message: fmt.Sprintf("no operation of the specs matches %s %s (forwarded anyway)", r.Method, r.URL.Path)})
	}

	resp, err := p.send(ctx, r, reqBody)
	if err != nil {
		p.cfg.Log.Warn("upstream unreachable", "err", err, "path", r.URL.Path)
		return p.fail(c, vendor, &problem.Problem{Kind: problem.Unavailable, Message: "upstream unreachable: " + err.Error(), Err: err})
	}
	defer resp.Body.Close()
	respBody, err := readLimited(resp.Body, p.cfg.BodyLimit)
	if err != nil {
		return p.fail(c, vendor, &problem.Problem{Kind: problem.Unavailable, Message: "upstream response: " + err.Error(), Err: err})
	}
	var respProblem *problem.Problem
	if matched {
		respProblem = p.checker.Response(ctx, m, in, resp.StatusCode, resp.Header, respBody)
		violations = append(violations, conform.Violations(respProblem, "response")...)
	}
	entry.Problem = joinProblems(reqProblem, respProblem)
	if matched && p.cfg.Recorder != nil {
		if err := p.cfg.Recorder.Record(m, resp.StatusCode, resp.Header, respBody, respProblem); err != nil {
			p.cfg.Log.Error("record", "err", err)
		}
	}
	if respProblem != nil && p.cfg.Errors {
		p.cfg.Log.Warn("upstream response breaks the spec", "operation", m.Operation, "problem", respProblem.Message)
		return p.answerProblem(c, vendor, respProblem, violations, &entry, start)
	}
	if len(violations) > 0 {
		p.cfg.Log.Info("spec violations", "method", r.Method, "path", r.URL.Path, "violations", conform.HeaderValue(violations))
	}

	h := c.Response().Header()
	for k, vs := range resp.Header {
		h[k] = append([]string(nil), vs...)
	}
	for _, k := range hopHeaders {
		h.Del(k)
	}
	h.Del("Content-Length")
	if len(violations) > 0 {
		h.Set(conform.HeaderViolations, conform.HeaderValue(violations))
	}
	c.Response().WriteHeader(resp.StatusCode)
	_, _ = c.Response().Write(respBody)
	p.journal(&entry, resp.StatusCode, start)
	return nil
}

// checkRequest validates a copy of the request, normalised as the
// vendor's server would read it.
func (p *Proxy) checkRequest(ctx context.Context, m *conform.Match, v server.Vendor, r *http.Request, body []byte) (*openapi3filter.RequestValidationInput, *problem.Problem) {
	cp := r.Clone(ctx)
	cp.Body = io.NopCloser(bytes.NewReader(body))
	cp.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	cp.ContentLength = int64(len(body))
	if n, ok := v.(server.RequestNormalizer); ok {
		n.NormalizeRequest(cp)
	}
	return p.checker.Request(ctx, m, cp)
}

// send forwards r to the upstream and returns its answer.
func (p *Proxy) send(ctx context.Context, r *http.Request, body []byte) (*http.Response, error) {
	u := *p.cfg.Upstream
	u.Path = strings.TrimRight(u.Path, "/") + r.URL.Path
	u.RawPath = ""
	if r.URL.RawPath != "" {
		u.RawPath = strings.TrimRight(p.cfg.Upstream.EscapedPath(), "/") + r.URL.RawPath
	}
	u.RawQuery = r.URL.RawQuery
	out, err := http.NewRequestWithContext(ctx, r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	out.Header = r.Header.Clone()
	for _, k := range hopHeaders {
		out.Header.Del(k)
	}
	// Let the transport negotiate (and undo) compression so bodies can be checked.
	out.Header.Del("Accept-Encoding")
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		out.Header.Set("X-Forwarded-For", strings.TrimPrefix(strings.TrimSpace(r.Header.Get("X-Forwarded-For")+", "+ip), ", "))
	}
	out.Header.Set("X-Forwarded-Host", r.Host)
	if len(body) == 0 {
		out.Body = http.NoBody
	}
	out.ContentLength = int64(len(body))
	return p.cfg.Client.Do(out)
}

// answerProblem answers in the vendor's error format (blocking mode).
func (p *Proxy) answerProblem(c echo.Context, v server.Vendor, prob *problem.Problem, vs []conform.Violation, e *journal.Entry, start time.Time) error {
	c.Response().Header().Set(conform.HeaderViolations, conform.HeaderValue(vs))
	if err := v.WriteError(c, prob); err != nil {
		return err
	}
	p.journal(e, c.Response().Status, start)
	return nil
}

// fail answers a proxy failure (upstream down, body too large).
func (p *Proxy) fail(c echo.Context, v server.Vendor, prob *problem.Problem) error {
	if v == nil {
		return admin.WriteError(c, prob)
	}
	return v.WriteError(c, prob)
}

func (p *Proxy) journal(e *journal.Entry, status int, start time.Time) {
	if p.cfg.Journal == nil {
		return
	}
	e.Status = status
	e.Duration = time.Since(start)
	p.cfg.Journal.Add(*e)
}

// joinProblems combines request and response findings for the journal:
// the entry then counts as unmatched and lists every issue.
func joinProblems(req, resp *problem.Problem) *problem.Problem {
	switch {
	case req == nil:
		return resp
	case resp == nil:
		return req
	}
	out := *req
	out.Issues = append(append([]problem.Issue(nil), req.Issues...), resp.Issues...)
	out.Message = req.Message + "; " + resp.Message
	return &out
}

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	if r == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}
