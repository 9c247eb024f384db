package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/idpmock/idpmock/mock/admin"
	"github.com/idpmock/idpmock/mock/conform"
	"github.com/idpmock/idpmock/mock/journal"
	"github.com/idpmock/idpmock/mock/override"
	"github.com/idpmock/idpmock/mock/problem"
)

// Files the recorder writes in its directory.
const (
	// RecordedFile holds the on-spec answers as override rules, one per
	// operation and path parameters (the latest answer wins). Serve them
	// with `idpmock serve --overrides DIR/overrides.json`.
	RecordedFile = "overrides.json"
	// OffSpecFile holds answers that break the spec, in the same format;
	// the mock refuses them unless started with --allow-off-spec.
	OffSpecFile = "overrides.off-spec.json"
	// ViolationsFile says what each off-spec answer broke.
	ViolationsFile = "violations.json"
)

// Recorder turns upstream answers into override rules the mock serves.
// Secrets (tokens, passwords, OTP codes; cookies and credentials in
// headers) are redacted before anything is written.
type Recorder struct {
	dir     string
	checker *conform.Checker // set by New(Config)

	mu         sync.Mutex
	onSpec     []override.Spec
	offSpec    []override.Spec
	violations []Recorded
}

// Recorded is one off-spec answer in ViolationsFile.
type Recorded struct {
	Operation  string              `json:"operation"`
	PathParams map[string]string   `json:"pathParams,omitempty"`
	Status     int                 `json:"status"`
	Violations []conform.Violation `json:"violations"`
}

// NewRecorder records into dir (created if needed), keeping the rules a
// previous run left there.
func NewRecorder(dir string) (*Recorder, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("--record: %w", err)
	}
	r := &Recorder{dir: dir}
	var err error
	if r.onSpec, err = readRules(filepath.Join(dir, RecordedFile)); err != nil {
		return nil, err
	}
	if r.offSpec, err = readRules(filepath.Join(dir, OffSpecFile)); err != nil {
		return nil, err
	}
	if raw, err := os.ReadFile(filepath.Join(dir, ViolationsFile)); err == nil {
		var doc struct {
			Recorded []Recorded `json:"recorded"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ViolationsFile), err)
		}
		r.violations = doc.Recorded
	}
	return r, nil
}

func readRules(file string) ([]override.Spec, error) {
	raw, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return admin.ParseOverridesFile(file, raw)
}

// Dir is where the recorder writes.
func (r *Recorder) Dir() string { return r.dir }

// recordedHeaders are the response headers worth replaying; the rest are
// per-request (Date, Correlation-Id) or secret (Set-Cookie).
var recordedHeaders = []string{"Content-Type", "Retry-After", "Location"}

// Record stores one upstream answer to a matched operation. respProblem is
// the spec check of the original answer; the redacted answer is checked
// again, since redaction can break a pattern.
func (r *Recorder) Record(m *conform.Match, status int, header http.Header, body []byte, respProblem *problem.Problem) error {
	spec := override.Spec{Operation: m.Operation, Status: status}
	if len(m.Params) > 0 {
		spec.Match.PathParams = map[string]string{}
		for k, v := range m.Params {
			if u, err := url.PathUnescape(v); err == nil {
				v = u
			}
			spec.Match.PathParams[k] = v
		}
	}
	h := http.Header{}
	for _, k := range recordedHeaders {
		if v := header.Get(k); v != "" {
			h.Set(k, v)
			if spec.Headers == nil {
				spec.Headers = map[string]string{}
			}
			spec.Headers[k] = v
		}
	}
	if len(body) > 0 {
		red, err := RedactBody(header.Get("Content-Type"), body)
		if err != nil {
			return fmt.Errorf("record %s: %w", m.Operation, err)
		}
		body = red
		spec.Body = json.RawMessage(body)
	}
	if respProblem == nil && r.checker != nil {
		respProblem = r.checker.Response(context.Background(), m, nil, status, h, body)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if respProblem == nil {
		r.onSpec = upsert(r.onSpec, spec)
		return writeRules(filepath.Join(r.dir, RecordedFile), r.onSpec)
	}
	r.offSpec = upsert(r.offSpec, spec)
	r.violations = append(r.violations, Recorded{Operation: m.Operation, PathParams: spec.Match.PathParams, Status: status,
		Violations: conform.Violations(respProblem, "response")})
	if err := writeRules(filepath.Join(r.dir, OffSpecFile), r.offSpec); err != nil {
		return err
	}
	return writeJSON(filepath.Join(r.dir, ViolationsFile), map[string]any{"recorded": r.violations})
}

// upsert replaces the rule for the same operation and path parameters.
func upsert(list []override.Spec, s override.Spec) []override.Spec {
	key := ruleKey(s)
	for i := range list {
		if ruleKey(list[i]) == key {
			list[i] = s
			return list
		}
	}
	return append(list, s)
}

func ruleKey(s override.Spec) string {
	keys := make([]string, 0, len(s.Match.PathParams))
	for k, v := range s.Match.PathParams {
		keys = append(keys, k+"="+v)
	}
	sort.Strings(keys)
	return s.Operation + "?" + strings.Join(keys, "&")
}

func writeRules(file string, rules []override.Spec) error {
	if rules == nil {
		rules = []override.Spec{}
	}
	return writeJSON(file, map[string]any{"overrides": rules})
}

// writeJSON replaces file atomically, so a mock watching it never reads half a file.
func writeJSON(file string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".record-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// secretKeys are lower-case JSON keys (without "_" and "-") whose string
// values are credentials in PingOne and ZITADEL answers; any key ending in
// token, secret or password counts too.
var secretKeys = map[string]bool{"otp": true, "otpsms": true, "otpemail": true, "passcode": true,
	"totp": true, "assertion": true, "privatekey": true, "pin": true, "recoverycode": true}

func secretKey(k string) bool {
	k = strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(k))
	return secretKeys[k] || strings.HasSuffix(k, "token") || strings.HasSuffix(k, "secret") || strings.HasSuffix(k, "password")
}

// RedactBody hides the string values of secret fields in a JSON body and
// keeps everything else (numbers such as error codes keep their type, so
// the body still fits its schema). Non-JSON bodies are kept as they are.
func RedactBody(contentType string, body []byte) ([]byte, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt != "" && mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return body, nil
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		if mt == "" {
			return body, nil
		}
		return nil, fmt.Errorf("body is not JSON: %w", err)
	}
	return json.Marshal(redactValue(v))
}

func redactValue(v any) any {
	switch n := v.(type) {
	case map[string]any:
		for k, c := range n {
			if s, ok := c.(string); ok && s != "" && secretKey(k) {
				n[k] = journal.Redacted
				continue
			}
			n[k] = redactValue(c)
		}
	case []any:
		for i, c := range n {
			n[i] = redactValue(c)
		}
	}
	return v
}
