package zitadel

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RPC deadlines: connect-go (ZITADEL) gives the handler a context bounded
// by grpc-timeout or connect-timeout-ms and answers deadline_exceeded when
// it passes. vanguard only forwards the value, so the front applies it:
// the call runs into the front's recorder, and whichever comes first, the
// answer or the deadline, is what the client gets.

// rpcTimeout reads the call's timeout; ok is false when it sets none.
func rpcTimeout(r *http.Request) (time.Duration, bool) {
	if v := r.Header.Get("Grpc-Timeout"); v != "" && len(v) >= 2 && len(v) <= 9 {
		n, err := strconv.ParseInt(v[:len(v)-1], 10, 64)
		if err != nil || n < 0 {
			return 0, false
		}
		unit := map[byte]time.Duration{'H': time.Hour, 'M': time.Minute, 'S': time.Second, 'm': time.Millisecond, 'u': time.Microsecond, 'n': time.Nanosecond}[v[len(v)-1]]
		if unit == 0 {
			return 0, false
		}
		return time.Duration(n) * unit, true
	}
	if v := r.Header.Get("Connect-Timeout-Ms"); v != "" && len(v) <= 10 {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, false
		}
		return time.Duration(n) * time.Millisecond, true
	}
	return 0, false
}

// withDeadline serves r through h into rec under the call's timeout. It
// reports whether h finished first; if not, it has answered
// deadline_exceeded on w.
func withDeadline(w http.ResponseWriter, r *http.Request, h http.Handler, d time.Duration, rec *recorder) bool {
	// The transcoder rewrites the request's headers in place: keep what the
	// client sent.
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	ctx, cancel := context.WithTimeout(r.Context(), d)
	defer cancel()
	done := make(chan struct{})
	var panicked any
	go func() {
		defer close(done)
		// A panic here would end the process: hand it to the request's
		// goroutine, where net/http (a deliberate connection drop) or the
		// front's recover deals with it.
		defer func() { panicked = recover() }()
		h.ServeHTTP(rec, r.WithContext(ctx))
	}()
	select {
	case <-done:
		if panicked != nil {
			panic(panicked)
		}
		return true
	case <-ctx.Done():
	}
	rec.abandon()
	const msg = "context deadline exceeded"
	if strings.HasPrefix(ct, "application/grpc") {
		grpcErr(w, ct, int(codeDeadlineExceeded), msg)
		return false
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(httpStatus(codeDeadlineExceeded))
	_, _ = w.Write([]byte(`{"code":"deadline_exceeded","message":"` + msg + `"}`))
	return false
}

// recorder keeps a unary answer until it is known to beat the deadline.
type recorder struct {
	mu        sync.Mutex
	header    http.Header
	sent      http.Header // the header at WriteHeader
	status    int
	body      bytes.Buffer
	abandoned bool
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.status == 0 {
		r.status, r.sent = code, r.header.Clone()
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.abandoned {
		return 0, context.DeadlineExceeded
	}
	return r.body.Write(b)
}

func (r *recorder) Flush() {}

func (r *recorder) abandon() {
	r.mu.Lock()
	r.abandoned = true
	r.mu.Unlock()
}

// replay sends the recorded answer; header values set after WriteHeader
// for declared trailers (or with http.TrailerPrefix) go out as trailers.
func (r *recorder) replay(w http.ResponseWriter) {
	if r.status == 0 {
		r.status, r.sent = http.StatusOK, r.header.Clone()
	}
	for k, v := range r.sent {
		w.Header()[k] = v
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body.Bytes())
	declared := map[string]bool{}
	for _, v := range r.sent.Values("Trailer") {
		for _, k := range strings.Split(v, ",") {
			declared[http.CanonicalHeaderKey(strings.TrimSpace(k))] = true
		}
	}
	for k, v := range r.header {
		if declared[k] || strings.HasPrefix(k, http.TrailerPrefix) {
			w.Header()[k] = v
		}
	}
}
