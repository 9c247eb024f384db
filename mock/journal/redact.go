package journal

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
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

// Query returns the raw query with secret parameters hidden. A value that
// is a JSON document (a Connect GET carries the request message in
// ?message=, with encoding=json, base64=1 optionally) has the secret fields
// inside it hidden; a message in another encoding (proto) cannot be read
// by field name and is not kept; nor is a query that does not parse and
// names a secret.
func (r *Redactor) Query(raw string) string {
	if r == nil || raw == "" {
		return raw
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		if r.mentionsSecret(raw) {
			return "[" + fmt.Sprint(len(raw)) + " bytes of a query that does not parse and names a secret field; not kept]"
		}
		return raw
	}
	changed := false
	for k, vs := range q {
		for i, v := range vs {
			nv := v
			switch {
			case r.secret(k):
				nv = Redacted
			case k == "message" && q.Get("encoding") != "" && q.Get("encoding") != "json":
				nv = fmt.Sprintf("[%d bytes of a %s message; not kept]", len(v), q.Get("encoding"))
			default:
				nv = r.queryValue(v, k == "message" && q.Get("base64") == "1")
			}
			if nv != v {
				vs[i], changed = nv, true
			}
		}
	}
	if !changed {
		return raw
	}
	return q.Encode()
}

// queryValue hides the secret fields of a query value that is a JSON
// object or array (base64url-encoded when b64), keeping its encoding.
func (r *Redactor) queryValue(v string, b64 bool) string {
	text := v
	if b64 {
		dec, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "="))
		if err != nil {
			if r.mentionsSecret(v) {
				return "[" + fmt.Sprint(len(v)) + " bytes of a message that does not decode and names a secret field; not kept]"
			}
			return v
		}
		text = string(dec)
	}
	t := strings.TrimSpace(text)
	if t == "" || (t[0] != '{' && t[0] != '[') {
		return v
	}
	var doc any
	if err := json.Unmarshal([]byte(t), &doc); err != nil {
		if r.mentionsSecret(t) {
			return "[" + fmt.Sprint(len(v)) + " bytes that are not valid JSON and name a secret field; not kept]"
		}
		return v
	}
	out, err := json.Marshal(r.value(doc))
	if err != nil || !bytes.Contains(out, []byte(Redacted)) {
		return v // nothing hidden: keep the value as sent
	}
	if b64 {
		return base64.RawURLEncoding.EncodeToString(out)
	}
	return string(out)
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

// mentionsSecret reports whether text contains a secret field name, also
// when the name is written with JSON escapes ("tok\u0065n") or URL
// percent-encoding ("tok%65n"), as a lenient parser would read it.
func (r *Redactor) mentionsSecret(text string) bool {
	for range 3 { // an escape may hide inside another ("%5Cu0065")
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
		u := unescape(text)
		if u == text {
			return false
		}
		text = u
	}
	return true // escapes within escapes: do not keep
}

// unescape decodes JSON \uXXXX and \x escapes and URL %XX escapes,
// leniently: whatever does not decode stays as it is.
func unescape(s string) string {
	if !strings.ContainsAny(s, `\%`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+5 < len(s) && s[i+1] == 'u':
			if n, err := strconv.ParseUint(s[i+2:i+6], 16, 32); err == nil {
				b.WriteRune(rune(n))
				i += 5
				continue
			}
		case c == '\\' && i+1 < len(s):
			i++
			switch s[i] {
			case 'n', 't', 'r', 'b', 'f':
				b.WriteByte(' ')
			default:
				b.WriteByte(s[i])
			}
			continue
		case c == '%' && i+2 < len(s):
			if n, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 2
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
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
