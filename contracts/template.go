package contracts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// targetVarNames are the variables a target sets per vendor (base URL,
// credentials, test user); scenarios use them and may not redefine them.
var targetVarNames = map[string]map[string]bool{
	"pingone": {"apiPath": true, "accessToken": true, "envID": true, "userID": true, "passwordPolicyID": true},
	"zitadel": {"baseURL": true, "accessToken": true, "loginName": true, "password": true},
}

var placeholder = regexp.MustCompile(`\{\{\s*(\$?[A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// placeholders lists the names used in s.
func placeholders(s string) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// vars resolves placeholders; dynamic ones ($isoTimestamp...) are fresh
// on every use, as in Postman (which PingOne's examples are written for).
type vars map[string]string

func (v vars) expand(s string, quote func(string) string) (string, error) {
	var err error
	out := placeholder.ReplaceAllStringFunc(s, func(m string) string {
		name := placeholder.FindStringSubmatch(m)[1]
		val, ok := v.lookup(name)
		if !ok {
			if err == nil {
				err = fmt.Errorf("{{%s}} is not defined", name)
			}
			return m
		}
		if quote != nil {
			return quote(val)
		}
		return val
	})
	return out, err
}

func (v vars) lookup(name string) (string, bool) {
	switch name {
	case "$isoTimestamp":
		return time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), true
	case "$randomUUID", "$guid":
		return uuid.NewString(), true
	case "$timestamp":
		return strconv.FormatInt(time.Now().Unix(), 10), true
	}
	val, ok := v[name]
	return val, ok
}

// expandValue expands placeholders in every string of a decoded JSON value.
func (v vars) expandValue(x any) (any, error) {
	switch n := x.(type) {
	case string:
		return v.expand(n, nil)
	case map[string]any:
		out := make(map[string]any, len(n))
		for k, c := range n {
			e, err := v.expandValue(c)
			if err != nil {
				return nil, err
			}
			out[k] = e
		}
		return out, nil
	case []any:
		out := make([]any, len(n))
		for i, c := range n {
			e, err := v.expandValue(c)
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	}
	return x, nil
}

// expandJSON expands placeholders inside a JSON document's strings.
func (v vars) expandJSON(raw []byte) ([]byte, error) {
	doc, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	doc, err = v.expandValue(doc)
	if err != nil {
		return nil, err
	}
	return marshal(doc)
}

// marshal encodes without HTML escaping, as clients send JSON.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
