package journal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Redacted replaces a secret value.
const Redacted = "[REDACTED]"

// Redactor hides credentials before a request is stored or shown: header
// values, and body or query fields whose names look secret.
type Redactor struct {
	// Headers whose values are hidden (canonical names). For Authorization
	// the scheme is kept ("Bearer [REDACTED]") since it helps debugging.
	Headers []string
	// Fields are lower-case body/query keys (with "_" and "-" removed) whose
	// values are hidden; Suffixes hide any key ending so ("...token").
	Fields, Suffixes []string
}

// DefaultRedactor covers bearer tokens, cookies, API keys, passwords, OTP
// codes and tokens as PingOne and ZITADEL clients send them.
var DefaultRedactor = &Redactor{
	Headers: []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key", "X-Auth-Token"},
	Fields: []string{"password", "passcode", "newpassword", "currentpassword", "otp", "code", "totp",
		"secret", "clientsecret", "assertion", "signature", "privatekey", "pin"},
	Suffixes: []string{"token", "secret", "password"},
}

// ForResponses is r for answers: the same secrets, but a "code" field
// there is an error code (PingOne's "INVALID_DATA", ZITADEL's gRPC code),
// which the reader needs, not an OTP code.
func (r *Redactor) ForResponses() *Redactor {
	if r == nil {
		return nil
	}
	out := *r
	out.Fields = slices.DeleteFunc(slices.Clone(r.Fields), func(f string) bool { return f == "code" })
	return &out
}

// Header returns a redacted copy of h.
func (r *Redactor) Header(h http.Header) http.Header {
	out := h.Clone()
	if r == nil {
		return out
	}
	for _, name := range r.Headers {
		vs := out.Values(name)
		for i, v := range vs {
			if scheme, _, ok := strings.Cut(v, " "); ok && (name == "Authorization" || name == "Proxy-Authorization") {
				vs[i] = scheme + " " + Redacted
			} else {
				vs[i] = Redacted
			}
		}
	}
	return out
}

// Secret reports whether a field (or log attribute) name holds a credential.
func (r *Redactor) Secret(key string) bool { return r.secret(key) }

// secret reports whether a field name holds a credential.
func (r *Redactor) secret(key string) bool {
	k := fieldKey(key)
	for _, f := range r.Fields {
		if k == f {
			return true
		}
	}
	for _, s := range r.Suffixes {
		if strings.HasSuffix(k, s) {
			return true
		}
	}
	return false
}

// fieldKey lower-cases key and drops "_" and "-" ("Client_Secret" →
// "clientsecret"). It runs for every body field of every journaled request,
// so it allocates only when the key needs changing.
func fieldKey(key string) string {
	clean := true
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c >= 0x80 {
			return keyReplacer.Replace(strings.ToLower(key))
		}
		if c == '_' || c == '-' || ('A' <= c && c <= 'Z') {
			clean = false
		}
	}
	if clean {
		return key
	}
	b := make([]byte, 0, len(key))
	for i := 0; i < len(key); i++ {
		switch c := key[i]; {
		case c == '_' || c == '-':
		case 'A' <= c && c <= 'Z':
			b = append(b, c+'a'-'A')
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

var keyReplacer = strings.NewReplacer("_", "", "-", "")

// Query returns the raw query with secret parameters hidden.
func (r *Redactor) Query(raw string) string {
	if r == nil || raw == "" {
		return raw
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return raw
	}
	changed := false
	for k, vs := range q {
		if r.secret(k) {
			for i := range vs {
				vs[i] = Redacted
			}
			changed = true
		}
	}
	if !changed {
		return raw
	}
	return q.Encode()
}

// Body decodes a request body for the journal: JSON becomes a value with
// secret fields hidden, a form becomes an object, anything else a string.
func (r *Redactor) Body(contentType string, raw []byte) any {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	// JSON first, whatever the Content-Type: a lenient vendor (ZITADEL's
	// gateway) reads JSON sent as a form or as text/plain, and its secrets
	// must be found by field name all the same.
	var v any
	if err := json.Unmarshal(raw, &v); err == nil {
		if r != nil {
			v = r.value(v)
		}
		return v
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/x-www-form-urlencoded" {
		if q, err := url.ParseQuery(string(raw)); err == nil {
			m := map[string]any{}
			for k, vs := range q {
				v := any(strings.Join(vs, ","))
				if r != nil && r.secret(k) {
					v = Redacted
				}
				m[k] = v
			}
			return m
		}
	}
	// Neither JSON nor a form (malformed or truncated, say): keep it as
	// text unless it names a secret field, since its values cannot be told
	// apart to hide only those.
	if r != nil && r.mentionsSecret(string(raw)) {
		return fmt.Sprintf("[%d bytes that are not valid JSON and name a secret field; not kept]", len(raw))
	}
	return string(raw)
}

// mentionsSecret reports whether text contains a secret field name.
func (r *Redactor) mentionsSecret(text string) bool {
	t := fieldKey(strings.ToLower(text))
	for _, f := range r.Fields {
		if strings.Contains(t, f) {
			return true
		}
	}
	for _, f := range r.Suffixes {
		if strings.Contains(t, f) {
			return true
		}
	}
	return false
}

func (r *Redactor) value(v any) any {
	switch n := v.(type) {
	case map[string]any:
		for k, c := range n {
			switch c.(type) {
			case map[string]any, []any:
				n[k] = r.value(c)
			default:
				if c != nil && r.secret(k) {
					n[k] = Redacted
				}
			}
		}
	case []any:
		for i, c := range n {
			n[i] = r.value(c)
		}
	}
	return v
}
