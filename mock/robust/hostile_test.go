package robust_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/idpmock/idpmock/mock/mocktest"
)

// outcome is what the vendor answers a hostile request.
type outcome int

const (
	// refused: a 4xx in the vendor's error format, and no state change.
	refused outcome = iota
	// lenient: the vendor reads past the oddity: the same status as the
	// valid request.
	lenient
	// refusedOrLenient: either, where the vendors' leniency differs by
	// field or version; never a 5xx. A refusal may change state the way
	// the vendor's does (a wrong password is counted).
	refusedOrLenient
	// headersTooLarge: net/http's own 431, before any vendor code runs.
	headersTooLarge
)

// hostile is one attack, applied to every operation it makes sense for.
type hostile struct {
	name string
	// status, if set, is the status of a refusal.
	status int
	// build turns the valid request into the hostile one and says what
	// the vendor answers; ok false skips operations it does not apply to.
	build func(tg target, r request) (req request, want outcome, ok bool)
}

const bodyLimit = 1 << 20 // the default --body-limit

var hostiles = []hostile{
	{"malformed JSON", 0, func(tg target, r request) (request, outcome, bool) {
		r.body, r.ctype = []byte(`{"checks": {"user": `), "application/json"
		return r, bodyOrIgnored(tg), true
	}},
	{"truncated body", 0, func(tg target, r request) (request, outcome, bool) {
		if len(r.body) < 4 {
			return r, 0, false
		}
		r.body = r.body[:len(r.body)/2]
		return r, refused, true
	}},
	{"text/plain content type", 415, func(tg target, r request) (request, outcome, bool) {
		r.ctype = "text/plain"
		return r, contentTypeLeniency(tg), tg.hasBody && len(r.body) > 0
	}},
	{"missing content type", 415, func(tg target, r request) (request, outcome, bool) {
		r.ctype = ""
		return r, contentTypeLeniency(tg), tg.hasBody && len(r.body) > 0
	}},
	{"content type with charset, odd case", 0, func(tg target, r request) (request, outcome, bool) {
		r.ctype = "Application/JSON; charset=UTF-8"
		return r, lenient, tg.hasBody && strings.Contains(tg.ctype, "json")
	}},
	{"body on a body-less operation", 0, func(tg target, r request) (request, outcome, bool) {
		r.body, r.ctype = []byte(`{"sessionToken":"x","id":"y"}`), "application/json"
		return r, lenient, !tg.hasBody
	}},
	{"huge body with Content-Length", 413, func(tg target, r request) (request, outcome, bool) {
		r.body, r.ctype = bigJSON(bodyLimit+1), "application/json"
		return r, refused, true
	}},
	{"huge chunked body", 413, func(tg target, r request) (request, outcome, bool) {
		r.body, r.ctype, r.chunked = bigJSON(bodyLimit+1), "application/json", true
		if !tg.hasBody {
			return r, refusedOrLenient, true // never read
		}
		return r, refused, true
	}},
	{"deeply nested JSON", 0, func(tg target, r request) (request, outcome, bool) {
		r.body, r.ctype = []byte(strings.Repeat("[", 100_000)+strings.Repeat("]", 100_000)), "application/json"
		return r, bodyOrIgnored(tg), true
	}},
	{"deeply nested unknown member", 0, func(tg target, r request) (request, outcome, bool) {
		if !isObject(r.body) {
			return r, 0, false
		}
		r.body = addMember(r.body, "idpmockNested", strings.Repeat(`{"a":`, 5000)+"1"+strings.Repeat("}", 5000))
		return r, refusedOrLenient, true
	}},
	{"invalid UTF-8 in a string", 0, func(tg target, r request) (request, outcome, bool) {
		b, ok := replaceFirstString(r.body, "\xff\xfe\xfd")
		r.body = b
		return r, refused, ok
	}},
	{"invalid UTF-8 in the path", 0, func(tg target, r request) (request, outcome, bool) {
		return withID(tg, r, "%ff%fe")
	}},
	{"NUL byte in the path", 0, func(tg target, r request) (request, outcome, bool) {
		return withID(tg, r, "a%00b")
	}},
	{"very long path segment", 0, func(tg target, r request) (request, outcome, bool) {
		return withID(tg, r, strings.Repeat("a", 64<<10))
	}},
	{"path traversal, escaped", 0, func(tg target, r request) (request, outcome, bool) {
		return withID(tg, r, "..%2F..%2F__mock%2Fstate")
	}},
	{"path traversal, raw", 404, func(tg target, r request) (request, outcome, bool) {
		return withID(tg, r, "../../../__mock/state")
	}},
	{"path traversal in a body id", 0, func(tg target, r request) (request, outcome, bool) {
		if tg.face != faceConnect || !bytes.Contains(r.body, []byte(`"sessionId"`)) {
			return r, 0, false
		}
		r.body = setMember(r.body, "sessionId", "../../__mock/state")
		if isZitadelUnknownIDOK(tg) {
			return r, refusedOrLenient, true
		}
		return r, refused, true
	}},
	{"unknown query parameters", 0, func(tg target, r request) (request, outcome, bool) {
		r.path += sep(r.path) + "foo=bar&idpmock_unknown=%00&x[]=1&empty="
		return r, lenient, true
	}},
	{"long header (64 KiB)", 0, func(tg target, r request) (request, outcome, bool) {
		r.header.Set("X-Padding", strings.Repeat("p", 64<<10))
		return r, lenient, true
	}},
	{"long bearer token (64 KiB)", 0, func(tg target, r request) (request, outcome, bool) {
		r.header.Set("Authorization", "Bearer "+strings.Repeat("t", 64<<10))
		return r, lenient, true
	}},
	{"headers over 1 MiB", 0, func(tg target, r request) (request, outcome, bool) {
		r.header.Set("X-Padding", strings.Repeat("p", 2<<20))
		// net/http answers before any route is known: once per face will do.
		return r, headersTooLarge, firstOfFace[tg.id]
	}},
	{"numeric overflow", 0, func(tg target, r request) (request, outcome, bool) {
		b, ok := overflowNumbers(r.body)
		r.body = b
		return r, refused, ok
	}},
	{"duplicate JSON keys", 0, func(tg target, r request) (request, outcome, bool) {
		b, ok := duplicateFirstKey(r.body)
		r.body = b
		if tg.face == facePingOne {
			return r, lenient, ok // Jackson: the last one wins
		}
		return r, refused, ok // protojson: duplicate field
	}},
	{"raw NUL byte in the body", 0, func(tg target, r request) (request, outcome, bool) {
		if len(r.body) < 2 {
			return r, 0, false
		}
		r.body = append([]byte{r.body[0], 0}, r.body[1:]...)
		return r, refused, true
	}},
	{"escaped NUL in a string", 0, func(tg target, r request) (request, outcome, bool) {
		b, ok := replaceFirstString(r.body, "a\x00b")
		r.body = b
		return r, refusedOrLenient, ok
	}},
	{"JSON array instead of an object", 0, func(tg target, r request) (request, outcome, bool) {
		r.body = []byte(`[{"sessionId":"1"}]`)
		return r, refused, tg.hasBody && strings.Contains(tg.ctype, "json")
	}},
	{"unsupported method", 405, func(tg target, r request) (request, outcome, bool) {
		r.method = "PROPFIND"
		return r, refused, true
	}},
	{"Prefer code=101 (would switch protocols)", 400, func(tg target, r request) (request, outcome, bool) {
		r.header.Set("Prefer", "code=101")
		return r, refused, true
	}},
	{"Prefer code=100", 400, func(tg target, r request) (request, outcome, bool) {
		r.header.Set("Prefer", "code=100")
		return r, refused, true
	}},
	{"__delay past the write timeout", 400, func(tg target, r request) (request, outcome, bool) {
		r.path += sep(r.path) + "__delay=600000"
		return r, refused, true
	}},
	{"idleTimeoutInMinutes at the int32 maximum", 0, func(tg target, r request) (request, outcome, bool) {
		if tg.face != facePingOne || !bytes.Contains(r.body, []byte(`"activeAt"`)) {
			return r, 0, false
		}
		r.body = setMember(r.body, "idleTimeoutInMinutes", "2147483647")
		return r, lenient, true
	}},
	{"expiresAt past year 9999", 400, func(tg target, r request) (request, outcome, bool) {
		if tg.face != facePingOne || !bytes.Contains(r.body, []byte(`"activeAt"`)) {
			return r, 0, false
		}
		r.body = setMember(setMember(r.body, "idleTimeoutInMinutes", "2147483647"), "activeAt", "9999-12-31T00:00:00.000Z")
		return r, refused, true
	}},
	{"no credentials", 401, func(tg target, r request) (request, outcome, bool) {
		r.noAuth = true
		return r, refused, true
	}},
}

// firstOfFace marks one operation per face (and the faces seen).
var firstOfFace = map[string]bool{}

// mutates reports whether the valid request of tg may change state.
func mutates(tg target) bool {
	return tg.method != "GET" && !strings.Contains(tg.id, "Get") && !strings.Contains(tg.id, "List")
}

// bodyOrIgnored: operations with a body refuse a broken one; the others
// never read it.
func bodyOrIgnored(tg target) outcome {
	if tg.hasBody {
		return refused
	}
	return lenient
}

// contentTypeLeniency: ZITADEL's REST gateway decodes JSON whatever the
// Content-Type; PingOne and Connect (whose Content-Type picks the codec)
// refuse with 415.
func contentTypeLeniency(tg target) outcome {
	if tg.face == faceREST {
		return lenient
	}
	return refused
}

func withID(tg target, r request, raw string) (request, outcome, bool) {
	if len(tg.idParams) == 0 {
		return r, 0, false
	}
	want := refused
	if isZitadelUnknownIDOK(tg) && !strings.Contains(raw, "/") {
		want = refusedOrLenient
	}
	name := tg.idParams[len(tg.idParams)-1]
	tpl := tg.path
	for _, n := range tg.idParams {
		if n != name {
			tpl = strings.ReplaceAll(tpl, "{"+n+"}", url.PathEscape(idFor(tg, n, live{})))
		}
	}
	path := strings.ReplaceAll(tpl, "{"+name+"}", raw)
	if q := strings.IndexByte(r.path, '?'); q >= 0 {
		path += r.path[q:]
	}
	r.path = path
	return r, want, true
}

// isZitadelUnknownIDOK: ZITADEL terminates an unknown session
// "successfully", and SetSession never looks the id up (it writes events
// onto it), so both may answer an odd id like a valid one.
func isZitadelUnknownIDOK(tg target) bool {
	switch tg.id {
	case "SessionService_DeleteSession", "Connect_DeleteSession", "SessionService_SetSession", "Connect_SetSession":
		return true
	}
	return false
}

func sep(path string) string {
	if strings.Contains(path, "?") {
		return "&"
	}
	return "?"
}

// bigJSON is a valid JSON object of exactly n bytes.
func bigJSON(n int) []byte {
	return []byte(`{"userAgent":"` + strings.Repeat("a", n-len(`{"userAgent":""}`)) + `"}`)
}

func isObject(b []byte) bool { return len(b) > 1 && b[0] == '{' }

// addMember inserts "name": raw as the object's first member.
func addMember(obj []byte, name, raw string) []byte {
	rest := bytes.TrimSpace(obj[1:])
	if len(rest) > 0 && rest[0] != '}' {
		return []byte(`{"` + name + `":` + raw + `,` + string(rest))
	}
	return []byte(`{"` + name + `":` + raw + `}`)
}

func setMember(obj []byte, name, value string) []byte {
	var m map[string]any
	if json.Unmarshal(obj, &m) != nil {
		return obj
	}
	m[name] = value
	b, _ := json.Marshal(m)
	return b
}

var firstString = regexp.MustCompile(`:"[^"\\]*"`)

// replaceFirstString puts raw (not JSON-escaped, except NUL) into the
// first string value of a JSON body.
func replaceFirstString(body []byte, raw string) ([]byte, bool) {
	loc := firstString.FindIndex(body)
	if loc == nil {
		return body, false
	}
	val := strings.ReplaceAll(raw, "\x00", `\u0000`)
	out := append([]byte{}, body[:loc[0]]...)
	out = append(out, []byte(`:"`+val+`"`)...)
	return append(out, body[loc[1]:]...), true
}

var (
	jsonNumber    = regexp.MustCompile(`([:\[,])(-?\d+(\.\d+)?([eE][+-]?\d+)?)([,}\]])`)
	numericString = regexp.MustCompile(`"(\w+)":"\d+(s?)"`)
)

// overflowNumbers replaces every number, and every numeric string (ids,
// durations, uint64s), by values no 64-bit type holds.
func overflowNumbers(body []byte) ([]byte, bool) {
	out := jsonNumber.ReplaceAll(body, []byte(`${1}1e400${5}`))
	out = numericString.ReplaceAllFunc(out, func(m []byte) []byte {
		sub := numericString.FindSubmatch(m)
		key := string(sub[1])
		if key == "id" || strings.HasSuffix(key, "Id") {
			return m // ids are strings of digits, not numbers
		}
		return []byte(`"` + key + `":"99999999999999999999999999` + string(sub[2]) + `"`)
	})
	return out, !bytes.Equal(out, body)
}

// duplicateFirstKey repeats the object's first member (same value) in front.
func duplicateFirstKey(body []byte) ([]byte, bool) {
	var m map[string]json.RawMessage
	if !isObject(body) || json.Unmarshal(body, &m) != nil || len(m) == 0 {
		return body, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	_, _ = dec.Token()
	tok, err := dec.Token()
	if err != nil {
		return body, false
	}
	k, _ := tok.(string)
	return addMember(body, k, string(m[k])), true
}

// TestHostileRequests sends every attack to every operation of both
// vendors and checks the answer: the vendor's own 4xx (or its leniency),
// never a 5xx, a panic, a dropped connection or a state change.
func TestHostileRequests(t *testing.T) {
	srv := mocktest.Start(t)
	tgs := targets(t)
	for _, tg := range tgs {
		if !firstOfFace[string(tg.face)] {
			firstOfFace[string(tg.face)], firstOfFace[tg.id] = true, true
		}
	}
	l := setup(t, srv)
	for _, tg := range tgs {
		// What the vendor answers the valid request, for lenient cases.
		want := send(t, srv, valid(tg, l))
		if want.status >= 500 {
			t.Fatalf("%s: the valid request got %d: %s", tg, want.status, want.body)
		}
		l = setup(t, srv)
		for _, h := range hostiles {
			r, outcome, ok := h.build(tg, valid(tg, l))
			if !ok {
				continue
			}
			t.Run(tg.id+"/"+h.name, func(t *testing.T) {
				var before string
				if outcome == refused {
					before = stateOf(t, srv)
				}
				got, err := trySend(srv.AnonymousClient(), srv.URL, r)
				if err != nil {
					t.Fatalf("no answer (connection dropped?): %v", err)
				}
				changed := outcome == refused && stateOf(t, srv) != before
				short := string(got.body)
				if len(short) > 300 {
					short = short[:300] + "..."
				}
				if got.status >= 500 {
					t.Fatalf("%d: %s", got.status, short)
				}
				switch {
				case outcome == headersTooLarge:
					if got.status != http.StatusRequestHeaderFieldsTooLarge {
						t.Errorf("status %d, want 431: %s", got.status, short)
					}
				case outcome == lenient || (outcome == refusedOrLenient && got.status == want.status):
					if got.status != want.status {
						t.Errorf("status %d, want %d like the valid request: %s", got.status, want.status, short)
					}
				default:
					if got.status < 400 {
						t.Errorf("status %d, want a 4xx: %s", got.status, short)
					} else if h.status != 0 && got.status != h.status {
						t.Errorf("status %d, want %d: %s", got.status, h.status, short)
					} else if err := vendorFormat(tg.face, got); err != nil {
						t.Errorf("%d: %v", got.status, err)
					}
					if changed {
						t.Errorf("a refused request (%d) changed the state:\nbefore %s\nafter  %s", got.status, before, stateOf(t, srv))
					}
				}
			})
			if t.Failed() && testing.Short() {
				return
			}
			if outcome != refused && mutates(tg) {
				l = setup(t, srv) // a lenient request may have acted
			}
		}
	}
}
