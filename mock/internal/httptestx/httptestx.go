// Package httptestx is the one set of HTTP helpers the mock's own tests use
// against a server started by mocktest: send a request, decode the JSON
// answer, walk it by path. Each test package wraps Do with its vendor's
// default headers; nothing else re-implements it.
package httptestx

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// Reply is one HTTP answer: Body is the decoded JSON object (nil when the
// answer is empty).
type Reply struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

// Do sends method base+path with body ("" for none, else sent as
// application/json) through c. hdr holds name/value pairs applied in order,
// so a later pair replaces an earlier one and an empty value removes the
// header. A non-empty answer that is not a JSON object fails the test.
func Do(t testing.TB, c *http.Client, base, method, path, body string, hdr ...string) Reply {
	t.Helper()
	r := Send(t, c, base, method, path, body, hdr...)
	if len(r.Raw) > 0 {
		if err := json.Unmarshal(r.Raw, &r.Body); err != nil {
			t.Fatalf("%s %s: answer is not a JSON object: %v\n%s", method, path, err, r.Raw)
		}
	}
	return r
}

// Send is Do for answers that may not be JSON: Body stays nil.
func Send(t testing.TB, c *http.Client, base, method, path, body string, hdr ...string) Reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	r, err := Exchange(c, req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// Exchange sends a request the caller built itself (raw or hostile bytes, a
// body of unknown length, repeated headers) and reads the whole answer.
// It returns errors rather than failing a test, so it may run on any
// goroutine and serve tests that expect the transport to fail.
func Exchange(c *http.Client, req *http.Request) (Reply, error) {
	res, err := c.Do(req)
	if err != nil {
		return Reply{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return Reply{}, fmt.Errorf("reading the answer: %w", err)
	}
	return Reply{Status: res.StatusCode, Header: res.Header, Raw: raw}, nil
}

// Get walks a decoded JSON value by dotted path ("session.factors.user.id",
// "locations.0.at"): keys for objects, decimal indexes for arrays. A
// missing step is nil.
func Get(v any, path string) any {
	for _, seg := range strings.Split(path, ".") {
		switch n := v.(type) {
		case map[string]any:
			v = n[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(n) || strconv.Itoa(i) != seg {
				return nil
			}
			v = n[i]
		default:
			return nil
		}
	}
	return v
}

// Str is Get for a string ("" when missing or not a string).
func Str(v any, path string) string {
	s, _ := Get(v, path).(string)
	return s
}
