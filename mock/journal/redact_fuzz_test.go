package journal

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// FuzzRedactSecret sends a secret under a secret field name in one of the
// ways a client may (query parameter, Connect GET message as JSON or
// base64 JSON, valid or cut-short JSON body, form, escaped key) with
// arbitrary text around it: the stored query and body never contain it.
func FuzzRedactSecret(f *testing.F) {
	f.Add(uint8(0), "Sup3rS3cretValue", "a=1", `"x":1`)
	f.Add(uint8(3), "tok3n-Value-123", "", "")
	f.Add(uint8(6), "0123456789abcdefghij", "%zz", `"nested":{"a":[1,2]}`)
	f.Fuzz(func(t *testing.T, how uint8, secret, query, member string) {
		// A secret worth finding: long, and nothing a redaction marker or
		// the surrounding text would contain by chance.
		if len(secret) < 12 || strings.ContainsAny(secret, "\\\"%&=+#?[] \t\r\n<>{},:") || !isPrint(secret) ||
			strings.Contains(query, secret) || strings.Contains(member, secret) {
			return
		}
		// Nor one that escaping or re-rendering the surrounding text can
		// spell: "\x10" is stored as "%10" or "\u0010", 1e20 as
		// 100000000000000000000, so a secret needs a character that no
		// escape (hex digits, u) or number (digits, . e E + -) produces.
		if !strings.ContainsFunc(secret, func(r rune) bool { return !strings.ContainsRune("0123456789abcdefABCDEFuU.eE+-", r) }) {
			return
		}
		key := []string{"sessionToken", "password", "tok\\u0065n", "Client_Secret"}[int(how)%4]
		jsonKey := key
		if strings.Contains(key, `\u`) {
			key = "token"
		}
		var extra string
		if member != "" && json.Valid([]byte("{"+member+"}")) {
			extra = member + ","
		}
		obj := "{" + extra + `"` + jsonKey + `":"` + secret + `"}`
		var gotQuery, gotBody string
		switch how % 7 {
		case 0:
			gotQuery = DefaultRedactor.Query(query + "&" + key + "=" + url.QueryEscape(secret))
		case 1:
			gotQuery = DefaultRedactor.Query(query + "&encoding=json&message=" + url.QueryEscape(obj))
		case 2:
			gotQuery = DefaultRedactor.Query(query + "&encoding=json&base64=1&message=" + base64.RawURLEncoding.EncodeToString([]byte(obj)))
		case 3:
			b, _ := json.Marshal(DefaultRedactor.Body("application/json", []byte(obj)))
			gotBody = string(b)
		case 4:
			b, _ := json.Marshal(DefaultRedactor.Body("application/json", []byte(obj[:len(obj)-2]))) // cut short
			gotBody = string(b)
		case 5:
			b, _ := json.Marshal(DefaultRedactor.Body("application/x-www-form-urlencoded", []byte(query+"&"+key+"="+url.QueryEscape(secret))))
			gotBody = string(b)
		case 6:
			gotQuery = DefaultRedactor.Query(query + "&encoding=proto&message=" + base64.RawURLEncoding.EncodeToString([]byte("\x12\x10"+secret)))
		}
		dq, _ := url.QueryUnescape(gotQuery)
		for _, got := range []string{gotQuery, dq, gotBody} {
			if strings.Contains(got, secret) {
				t.Fatalf("way %d kept the secret: %s", how%7, got)
			}
		}
		if v, err := url.ParseQuery(gotQuery); err == nil {
			if b, err := base64.RawURLEncoding.DecodeString(v.Get("message")); err == nil && strings.Contains(string(b), secret) {
				t.Fatalf("way %d kept the secret in base64: %s", how%7, b)
			}
		}
	})
}

func isPrint(s string) bool {
	for _, r := range s {
		if r < 0x21 || r > 0x7e {
			return false
		}
	}
	return true
}
