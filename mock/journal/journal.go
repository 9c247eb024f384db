// Package journal keeps the most recent requests the mock served, so tests
// and developers can check what a client really sent: by operation, by
// body field, or the ones that matched nothing (with the nearest
// operation and why it did not match). It is a bounded ring: memory stays
// flat however long the mock runs.
package journal

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/idpmock/idpmock/mock/jsonptr"
	"github.com/idpmock/idpmock/mock/problem"
)

// DefaultSize is how many entries a journal keeps unless told otherwise.
const DefaultSize = 1000

// Entry is one request and the mock's answer.
type Entry struct {
	Seq       int64
	At        time.Time // wall clock
	Clock     time.Time // the server's (possibly moved) clock
	Method    string
	Path      string
	Query     string
	Vendor    string
	Operation string // "" when no operation matched
	Header    http.Header
	Body      any // decoded JSON, a string for other bodies, nil when empty
	Problem   *problem.Problem
	Status    int // 0 when the connection was dropped
	Duration  time.Duration
	Override  string // id of the override that answered
	Prefer    string // Prefer header that shaped the answer
	Fault     string // "drop"
	Protocol  string // ProtocolREST, ProtocolConnect, ProtocolGRPC or ProtocolGRPCWeb
	Procedure string // the RPC path called, for RPC calls served as the REST Method and Path
	Nearest   *Nearest
	// ResponseHeader and ResponseBody are the answer as sent (redacted like
	// the request when read); ResponseBody is decoded from the kept bytes.
	ResponseHeader http.Header
	ResponseBody   any

	// raw is the body as received, decoded into Body when the entry is
	// read (see SetBody).
	raw     *rawBody
	rawResp *rawBody
}

type rawBody struct {
	contentType string
	data        []byte
	redact      *Redactor
	header      http.Header // responses only
}

// SetBody keeps a request body to be decoded and redacted (by r, nil for
// none) into Body when the entry is read, as Redactor.Body would now:
// decoding costs more than serving most requests, and few entries are ever
// read. data must not change afterwards.
func (e *Entry) SetBody(contentType string, data []byte, r *Redactor) {
	e.Body = nil
	e.raw = &rawBody{contentType: contentType, data: data, redact: r}
}

// SetResponse keeps the answer's headers and body like SetBody keeps the
// request's: redacted by r and decoded only when the entry is read. Neither
// may change afterwards.
func (e *Entry) SetResponse(h http.Header, data []byte, r *Redactor) {
	e.ResponseHeader, e.ResponseBody = nil, nil
	e.rawResp = &rawBody{contentType: h.Get("Content-Type"), data: data, redact: r, header: h}
}

// resolved returns e with Body decoded from the kept raw body.
func (e Entry) resolved() Entry {
	if e.raw != nil {
		e.Body = e.raw.redact.Body(e.raw.contentType, e.raw.data)
		e.raw = nil
	}
	if r := e.rawResp; r != nil {
		e.ResponseHeader = r.redact.Header(r.header)
		if len(r.data) > 0 {
			e.ResponseBody = r.redact.Body(r.contentType, r.data)
		}
		e.rawResp = nil
	}
	return e
}

// Valid reports whether the request passed validation.
func (e Entry) Valid() bool { return e.Operation != "" && e.Problem == nil }

// Unmatched reports whether the request hit no operation or failed validation.
func (e Entry) Unmatched() bool { return !e.Valid() }

// Nearest is, for an unmatched request, the operation it most resembles and
// why it did not match.
type Nearest struct {
	Vendor    string
	Operation string
	Method    string
	Path      string // mounted path template
	Reasons   []string
}

// Journal is a bounded, concurrency-safe request log.
type Journal struct {
	mu   sync.RWMutex
	ring []Entry
	next int // where the next entry goes
	full bool
	seq  int64
	// added is closed by the next Add, then forgotten; it exists only
	// while someone waits (Wait), so an unwatched journal pays one nil check.
	added chan struct{}

	shared *shared // nil: the ring above (this process's own)
}

// New returns a journal that keeps the last size entries (DefaultSize if size <= 0).
func New(size int) *Journal {
	if size <= 0 {
		size = DefaultSize
	}
	return &Journal{ring: make([]Entry, size)}
}

// Add records e, numbering it, and returns it as stored (a body kept with
// SetBody is decoded only when the entry is read back: Find, All).
func (j *Journal) Add(e Entry) Entry {
	if j.shared != nil {
		e, _ = j.AddContext(context.Background(), e)
		return e
	}
	j.mu.Lock()
	j.seq++
	e.Seq = j.seq
	j.ring[j.next] = e
	j.next = (j.next + 1) % len(j.ring)
	if j.next == 0 {
		j.full = true
	}
	if j.added != nil {
		close(j.added)
		j.added = nil
	}
	j.mu.Unlock()
	return e
}

// Seq is the number of the newest entry ever added (0 for none); entries
// numbered above it are yet to come.
func (j *Journal) Seq() int64 {
	if j.shared != nil {
		n, _ := j.SeqContext(context.Background())
		return n
	}
	j.mu.RLock()
	defer j.mu.RUnlock()
	return j.seq
}

// Wake ends every Wait now, as if an entry had been added (a server
// shutting down does not wait for long polls).
func (j *Journal) Wake() {
	if sh := j.shared; sh != nil {
		sh.wakeOnce.Do(func() { close(sh.wake) })
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.added != nil {
		close(j.added)
		j.added = nil
	}
}

// Wait blocks until an entry numbered above since exists or ctx ends, and
// reports whether one does.
func (j *Journal) Wait(ctx context.Context, since int64) bool {
	if j.shared != nil {
		ok, _ := j.WaitContext(ctx, since)
		return ok
	}
	j.mu.Lock()
	if j.seq > since {
		j.mu.Unlock()
		return true
	}
	if j.added == nil {
		j.added = make(chan struct{})
	}
	ch := j.added
	j.mu.Unlock()
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		return false
	}
}

// Len is the number of entries held.
func (j *Journal) Len() int {
	if j.shared != nil {
		n, _ := j.LenContext(context.Background())
		return n
	}
	j.mu.RLock()
	defer j.mu.RUnlock()
	if j.full {
		return len(j.ring)
	}
	return j.next
}

// All returns every entry held, oldest first.
func (j *Journal) All() []Entry { return j.Find(Query{}) }

// Clear drops every entry; numbering continues.
func (j *Journal) Clear() {
	if j.shared != nil {
		_ = j.ClearContext(context.Background())
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	clear(j.ring)
	j.next, j.full = 0, false
}

// Query selects entries; zero fields match anything.
type Query struct {
	Operation string
	Vendor    string
	Method    string
	Path      string
	Status    int
	Valid     *bool
	Unmatched bool
	// Protocol: ProtocolREST, ProtocolConnect, ProtocolGRPC or ProtocolGRPCWeb.
	Protocol string
	// Procedure: the RPC path called ("/zitadel.session.v2.SessionService/GetSession").
	Procedure string
	// Header: name → exact value (redacted values read "[REDACTED]"...).
	Header map[string]string
	// Body: JSON pointer → expected decoded JSON value.
	Body map[string]any
	// Limit keeps only the newest Limit matches.
	Limit int
	// Since keeps only entries numbered above it (a polling cursor).
	Since int64
}

// Check reports malformed pointers in q.
func (q Query) Check() error {
	for p := range q.Body {
		if err := jsonptr.Check(p); err != nil {
			return err
		}
	}
	return nil
}

// Match reports whether e satisfies q.
func (q Query) Match(e Entry) bool {
	if len(q.Body) > 0 {
		e = e.resolved()
	}
	switch {
	case q.Since > 0 && e.Seq <= q.Since,
		q.Operation != "" && e.Operation != q.Operation,
		q.Vendor != "" && e.Vendor != q.Vendor,
		q.Method != "" && !strings.EqualFold(e.Method, q.Method),
		q.Path != "" && e.Path != q.Path,
		q.Protocol != "" && protocolOr(e.Protocol) != q.Protocol,
		q.Procedure != "" && e.Procedure != q.Procedure,
		q.Status != 0 && e.Status != q.Status,
		q.Valid != nil && e.Valid() != *q.Valid,
		q.Unmatched && !e.Unmatched():
		return false
	}
	for k, v := range q.Header {
		if e.Header.Get(k) != v {
			return false
		}
	}
	for p, want := range q.Body {
		got, ok := jsonptr.Get(e.Body, p)
		if !ok || !jsonptr.Equal(got, want) {
			return false
		}
	}
	return true
}

// Find returns the entries matching q, oldest first.
func (j *Journal) Find(q Query) []Entry {
	if j.shared != nil {
		es, _ := j.FindContext(context.Background(), q)
		return es
	}
	j.mu.RLock()
	defer j.mu.RUnlock()
	var out []Entry
	// Match decodes a body only when the query looks into it; the
	// entries kept are decoded once, here.
	visit := func(e Entry) {
		if q.Match(e) {
			out = append(out, e.resolved())
		}
	}
	if j.full {
		for _, e := range j.ring[j.next:] {
			visit(e)
		}
	}
	for _, e := range j.ring[:j.next] {
		visit(e)
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[len(out)-q.Limit:]
	}
	return out
}

// Count is len(Find(q)) without the limit.
func (j *Journal) Count(q Query) int {
	q.Limit = 0
	return len(j.Find(q))
}
