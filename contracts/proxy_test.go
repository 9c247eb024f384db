package contracts_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idpmock/idpmock/contracts"
	"github.com/idpmock/idpmock/mock/conform"
	"github.com/idpmock/idpmock/mock/journal"
	"github.com/idpmock/idpmock/mock/mocktest"
	"github.com/idpmock/idpmock/mock/proxy"
	"github.com/idpmock/idpmock/mock/server"
)

const (
	envID      = "abfba8f6-49eb-49f5-a5d9-80ad5c98f9f6"
	goodID     = "ee14fe02-6b74-46b3-81f2-2de2a384fa1b"
	offSpecID  = "48650856-2bab-4436-856b-2e6e6e6ae3f9"
	sessionDoc = `{"_links":{"self":{"href":"https://api.pingone.com/v1/environments/` + envID + `/sessions/%ID%"},"environment":{"href":"https://api.pingone.com/v1/environments/` + envID + `"}},` +
		`"id":"%ID%","environment":{"id":"` + envID + `"},"user":{"id":"07e1ee43-9f56-4254-8cfb-1709b5ea8e24"},` +
		`"createdAt":"2022-10-04T17:10:30.531Z","activeAt":"2022-10-04T17:12:19.890Z","idleTimeoutInMinutes":%IDLE%,` +
		`"userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:103.0) Gecko/20100101 Firefox/103.0",` +
		`"browser":{"name":"Firefox","version":"103.0"},"operatingSystem":{"name":"Mac OS X","version":"10.15"},"device":{"type":"Mac"},` +
		`"locations":[{"at":"2022-08-17T01:21:30.116Z","remoteIp":"174.1.62.19"}],"lastSignOn":null,"expiresAt":"2022-11-23T17:12:19.890Z"}`
)

// vendorStub plays PingOne and ZITADEL: one on-spec session, one whose
// idleTimeoutInMinutes is a string (off-spec), and a ZITADEL create
// answer carrying a session token.
func vendorStub(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "ST=upstream-secret; Path=/")
		w.Header().Set("Correlation-Id", "c0ffee")
		base := "/v1/environments/" + envID + "/sessions/"
		switch {
		case r.Method == "GET" && r.URL.Path == base+goodID:
			_, _ = io.WriteString(w, strings.NewReplacer("%ID%", goodID, "%IDLE%", "72000").Replace(sessionDoc))
		case r.Method == "GET" && r.URL.Path == base+offSpecID:
			_, _ = io.WriteString(w, strings.NewReplacer("%ID%", offSpecID, "%IDLE%", `"72000"`).Replace(sessionDoc))
		case r.Method == "POST" && r.URL.Path == "/v2/sessions":
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"details":{"sequence":"3","changeDate":"2025-03-05T21:29:22.262Z","resourceOwner":"69629023906488334"},"sessionId":"222430354126975533","sessionToken":"upstream-session-token"}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"id":"6d5c4b3a-2f1e-4d0c-9b8a-7f6e5d4c3b2a","code":"NOT_FOUND","message":"The request could not be completed. The requested resource was not found."}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, c *http.Client, method, u, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer real-vendor-token")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestProxyAgainstVendorStub: the proxy passes the vendor's answers
// through, reports the one off-spec answer in X-Idpmock-Violations and the
// journal, and records the answers (secrets redacted) as overrides that a
// mock then serves.
func TestProxyAgainstVendorStub(t *testing.T) {
	stub := vendorStub(t)
	dir := t.TempDir()
	rec, err := proxy.NewRecorder(dir)
	if err != nil {
		t.Fatal(err)
	}
	up, _ := url.Parse(stub.URL)
	vs := vendors(t)
	p, err := proxy.New(proxy.Config{Upstream: up, Vendors: vs, Journal: journal.New(20), Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	px := httptest.NewServer(p)
	defer px.Close()
	c := px.Client()
	sessions := px.URL + "/v1/environments/" + envID + "/sessions/"

	resp, body := get(t, c, "GET", sessions+goodID, "")
	if resp.StatusCode != 200 || resp.Header.Get(conform.HeaderViolations) != "" {
		t.Fatalf("on-spec answer: %d, violations %q", resp.StatusCode, resp.Header.Get(conform.HeaderViolations))
	}
	if !strings.Contains(body, goodID) || resp.Header.Get("Correlation-Id") != "c0ffee" {
		t.Errorf("answer not passed through: %s %v", body, resp.Header)
	}

	resp, body = get(t, c, "GET", sessions+offSpecID, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"72000"`) {
		t.Fatalf("off-spec answer must pass through unchanged (report-only): %d %s", resp.StatusCode, body)
	}
	var vio []conform.Violation
	if err := json.Unmarshal([]byte(resp.Header.Get(conform.HeaderViolations)), &vio); err != nil || len(vio) != 1 ||
		vio[0].Field != "idleTimeoutInMinutes" || vio[0].Rule != "type" || vio[0].In != "response" {
		t.Fatalf("violations header %q (%v), want one type violation of idleTimeoutInMinutes", resp.Header.Get(conform.HeaderViolations), err)
	}
	off := p.Journal().Find(journal.Query{Operation: "readSession", Unmatched: true})
	if len(off) != 1 || off[0].Path != "/v1/environments/"+envID+"/sessions/"+offSpecID {
		t.Fatalf("journal: %d off-spec readSession entries, want the one", len(off))
	}

	resp, body = get(t, c, "POST", px.URL+"/v2/sessions", `{"checks":{"user":{"loginName":"mini@mouse.com"}}}`)
	if resp.StatusCode != 201 || !strings.Contains(body, "upstream-session-token") {
		t.Fatalf("zitadel create through the proxy: %d %s", resp.StatusCode, body)
	}

	// Recorded: on-spec answers as overrides, secrets redacted.
	raw, err := os.ReadFile(filepath.Join(dir, proxy.RecordedFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"upstream-session-token", "upstream-secret", "real-vendor-token", "c0ffee"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("recorded file leaks %q:\n%s", secret, raw)
		}
	}
	if !strings.Contains(string(raw), journal.Redacted) || strings.Contains(string(raw), offSpecID) {
		t.Errorf("recorded file: want the redacted token and no off-spec answer:\n%s", raw)
	}
	if off, err := os.ReadFile(filepath.Join(dir, proxy.OffSpecFile)); err != nil || !strings.Contains(string(off), offSpecID) {
		t.Errorf("off-spec file: %v\n%s", err, off)
	}

	// The fixtures check accepts the recording, and the mock serves it.
	if fs := contracts.CheckOverrides(filepath.Join(dir, proxy.RecordedFile), raw, specSchemas(t, vs)); len(fs) > 0 {
		t.Errorf("recorded overrides break the spec:%s", findingsText(fs))
	}
	srv := mocktest.Start(t, mocktest.WithConfig(func(c *server.Config) { c.OverridesFile = filepath.Join(dir, proxy.RecordedFile) }))
	mresp, mbody := get(t, srv.Client(), "GET", srv.URL+"/v1/environments/"+envID+"/sessions/"+goodID, "")
	if mresp.StatusCode != 200 || mresp.Header.Get("X-Idpmock-Override") == "" {
		t.Fatalf("mock did not serve the recording: %d %v %s", mresp.StatusCode, mresp.Header, mbody)
	}
	var served, recorded map[string]any
	_ = json.Unmarshal([]byte(mbody), &served)
	_ = json.Unmarshal([]byte(strings.NewReplacer("%ID%", goodID, "%IDLE%", "72000").Replace(sessionDoc)), &recorded)
	if served["_links"].(map[string]any)["self"].(map[string]any)["href"] != recorded["_links"].(map[string]any)["self"].(map[string]any)["href"] {
		t.Errorf("served %s, want the recorded upstream answer", mbody)
	}
	mresp, mbody = get(t, srv.Client(), "POST", srv.URL+"/v2/sessions", `{}`)
	var created map[string]any
	_ = json.Unmarshal([]byte(mbody), &created)
	if mresp.StatusCode != 201 || created["sessionToken"] != journal.Redacted || created["sessionId"] != "222430354126975533" {
		t.Errorf("mock's recorded create: %d %s", mresp.StatusCode, mbody)
	}
	// The off-spec answer was not recorded as servable: the mock answers
	// that session itself (it does not exist there).
	mresp, _ = get(t, srv.Client(), "GET", srv.URL+"/v1/environments/"+envID+"/sessions/"+offSpecID, "")
	if mresp.StatusCode != 404 {
		t.Errorf("off-spec recording served: %d", mresp.StatusCode)
	}
}
