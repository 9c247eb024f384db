package override

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Prefer is a request's wish, Prism style: `Prefer: code=404, example=gone`,
// plus idpmock's `delay=<ms>` and `state=ignore`. Without a Prefer header
// the query parameters __code, __example, __delay and __state are read
// instead (never both, as in Prism).
type Prefer struct {
	Code        int
	Example     string
	DelayMs     int
	IgnoreState bool
	Raw         string // as received, for the journal
}

// Canned reports whether the answer must come from the spec's examples
// instead of the vendor: any of code, example or state=ignore.
func (p Prefer) Canned() bool { return p.Code != 0 || p.Example != "" || p.IgnoreState }

// Empty reports whether the request expressed no wish idpmock acts on.
func (p Prefer) Empty() bool { return !p.Canned() && p.DelayMs == 0 }

// Delay is the requested delay.
func (p Prefer) Delay() time.Duration { return time.Duration(p.DelayMs) * time.Millisecond }

// Applied is the Preference-Applied header value (RFC 7240).
func (p Prefer) Applied() string {
	var parts []string
	if p.Code != 0 {
		parts = append(parts, "code="+strconv.Itoa(p.Code))
	}
	if p.Example != "" {
		parts = append(parts, "example="+p.Example)
	}
	if p.DelayMs != 0 {
		parts = append(parts, "delay="+strconv.Itoa(p.DelayMs))
	}
	if p.IgnoreState {
		parts = append(parts, "state=ignore")
	}
	return strings.Join(parts, ", ")
}

// ParsePrefer reads the Prefer header(s) of h, or the __ query parameters
// when there is none. Preferences it does not know (return=minimal,
// dynamic, seed...) are ignored; malformed known ones are an error.
func ParsePrefer(h http.Header, q url.Values) (Prefer, error) {
	var p Prefer
	pairs := map[string]string{}
	if vs := h.Values("Prefer"); len(vs) > 0 {
		p.Raw = strings.Join(vs, ", ")
		for _, part := range strings.FieldsFunc(p.Raw, func(r rune) bool { return r == ',' || r == ';' }) {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			pairs[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(v), `"`)
		}
	} else {
		var raw []string
		for _, k := range []string{"code", "example", "delay", "state"} {
			if q.Has("__" + k) {
				pairs[k] = q.Get("__" + k)
				raw = append(raw, k+"="+pairs[k])
			}
		}
		p.Raw = strings.Join(raw, ", ")
	}
	if v, ok := pairs["code"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || len(v) != 3 || n < 100 || n > 599 {
			return p, fmt.Errorf("Prefer code=%q: want a three-digit HTTP status", v)
		}
		if n < 200 {
			// 100 would be followed by a made-up final answer and 101 would
			// switch the connection to nothing: no canned answer is 1xx.
			return p, fmt.Errorf("Prefer code=%d: informational (1xx) statuses cannot be forced; want a final status, 200 to 599", n)
		}
		p.Code = n
	}
	if v, ok := pairs["example"]; ok {
		if v == "" {
			return p, fmt.Errorf("Prefer example=: want an example name")
		}
		p.Example = v
	}
	if v, ok := pairs["delay"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 600000 {
			return p, fmt.Errorf("Prefer delay=%q: want milliseconds between 0 and 600000", v)
		}
		p.DelayMs = n
	}
	if v, ok := pairs["state"]; ok {
		if v != "ignore" {
			return p, fmt.Errorf("Prefer state=%q: the only value is \"ignore\"", v)
		}
		p.IgnoreState = true
	}
	return p, nil
}
