package contracts_test

import (
	"context"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/idpmock/idpmock/contracts"
	"github.com/idpmock/idpmock/mock/mocktest"
	"github.com/idpmock/idpmock/mock/server"
)

// TestScenarioSchema: malformed scenario files are refused with the file,
// the JSON pointer and the rule.
func TestScenarioSchema(t *testing.T) {
	const step = `
steps:
  - name: s
    request: {method: GET, url: "{{apiPath}}/x"}
    expect: {status: 200}
`
	tests := []struct {
		name string
		doc  string
		want []string // "" means valid
	}{
		{"valid", "name: n\nvendor: pingone" + step, nil},
		{"unknown vendor", "name: n\nvendor: okta" + step, []string{"/vendor", "enum"}},
		{"missing status", "name: n\nvendor: pingone\nsteps:\n  - name: s\n    request: {method: GET, url: \"{{apiPath}}/x\"}\n    expect: {}\n", []string{"/steps/0/expect", "required"}},
		{"bad pointer", "name: n\nvendor: pingone\nsteps:\n  - name: s\n    request: {method: GET, url: \"{{apiPath}}/x\"}\n    expect: {status: 200, json: {id: 1}}\n", []string{"/steps/0/expect/json", "pattern"}},
		{"url without the target base", "name: n\nvendor: pingone\nsteps:\n  - name: s\n    request: {method: GET, url: \"http://example.com/x\"}\n    expect: {status: 200}\n", []string{"/steps/0/request/url", "pattern"}},
		{"body and rawBody", "name: n\nvendor: pingone\nsteps:\n  - name: s\n    request: {method: POST, url: \"{{apiPath}}/x\", body: {}, rawBody: \"\"}\n    expect: {status: 200}\n", []string{"/steps/0/request", "not"}},
		{"unknown key", "name: n\nvendor: pingone\nextra: 1" + step, []string{"additionalProperties"}},
		{"shadows a target variable", "name: n\nvendor: pingone\nvars: {envID: x}" + step, []string{"/vars/envID", "shadows"}},
		{"undefined placeholder", "name: n\nvendor: pingone\nsteps:\n  - name: s\n    request: {method: GET, url: \"{{apiPath}}/{{nope}}\"}\n    expect: {status: 200}\n", []string{"/steps/0", "{{nope}}"}},
		{"capture used before it exists", "name: n\nvendor: zitadel\nsteps:\n  - name: a\n    request: {method: GET, url: \"{{baseURL}}/{{id}}\"}\n    expect: {status: 200}\n    capture: {id: /id}\n", []string{"{{id}}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := contracts.Parse("contracts/scenarios/test.yaml", []byte(tt.doc))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("valid scenario refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range append(tt.want, "contracts/scenarios/test.yaml") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not name %q: %v", w, err)
				}
			}
		})
	}
}

// TestRunnerExpectations: each kind of expectation fails when the answer
// differs, with a message naming the pointer and both values.
func TestRunnerExpectations(t *testing.T) {
	srv := mocktest.Start(t)
	checker, err := contracts.NewChecker(vendors(t))
	if err != nil {
		t.Fatal(err)
	}
	target := contracts.Target{Name: "mock", Client: srv.AnonymousClient(), Vars: contracts.MockVars(srv.URL), Checker: checker}
	const create = `name: n
vendor: pingone
steps:
  - name: create
    request:
      method: POST
      url: "{{apiPath}}/environments/{{envID}}/sessions"
      headers: {Authorization: "Bearer {{accessToken}}", Content-Type: application/json}
      body: {activeAt: "2030-01-01T00:00:00.000Z", userAgent: curl/8.0, idleTimeoutInMinutes: 90}
    expect:
      status: 201
`
	tests := []struct {
		name   string
		expect string
		want   string // "" means the step passes
	}{
		{"all met", "      json: {/idleTimeoutInMinutes: 90}\n      types: {/locations: array}\n      absent: [/token]\n", ""},
		{"json value", "      json: {/idleTimeoutInMinutes: 91}\n", "/idleTimeoutInMinutes = 90, want 91"},
		{"json missing", "      json: {/nope: 1}\n", "/nope: missing"},
		{"match", "      match: {/userAgent: ^Mozilla}\n", `/userAgent = "curl/8.0", want match for "^Mozilla"`},
		{"type", "      types: {/idleTimeoutInMinutes: string}\n", "/idleTimeoutInMinutes is integer (90), want string"},
		{"present", "      present: [/token]\n", "/token: missing"},
		{"absent", "      absent: [/id]\n", "/id should be absent"},
		{"length", "      length: {/locations: 3}\n", "/locations has"},
		{"contains", "      contains: {/locations: {remoteIp: 10.0.0.1}}\n", "/locations has no element with"},
		{"header", "      headers: {Content-Type: ^text/html}\n", "header Content-Type"},
		{"empty body", "      emptyBody: true\n", "body should be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := contracts.Parse("t.yaml", []byte(create+tt.expect))
			if err != nil {
				t.Fatal(err)
			}
			res := contracts.Run(context.Background(), target, sc)
			if tt.want == "" {
				if res.Failed() {
					t.Fatal(res.Report())
				}
				return
			}
			if !res.Failed() || !strings.Contains(res.Report(), tt.want) {
				t.Errorf("want a failure naming %q, got:\n%s", tt.want, res.Report())
			}
		})
	}
	// A wrong status stops the scenario: later steps would only fail because of it.
	sc, err := contracts.Parse("t.yaml", []byte(strings.Replace(create, "status: 201", "status: 200", 1)+`  - name: never
    request: {method: GET, url: "{{apiPath}}/x"}
    expect: {status: 200}
`))
	if err != nil {
		t.Fatal(err)
	}
	if res := contracts.Run(context.Background(), target, sc); len(res.Steps) != 1 || !strings.Contains(res.Report(), "status 201, want 200") {
		t.Errorf("want one failed step:\n%s", res.Report())
	}
}

// TestDrift runs the scenarios against a stand-in "vendor" (a lenient mock
// whose handler drops a field and retypes another) and checks the drift
// report names both, field by field, and that report mode and fail mode
// are told apart.
func TestDrift(t *testing.T) {
	checker, err := contracts.NewChecker(vendors(t))
	if err != nil {
		t.Fatal(err)
	}
	mockSrv := mocktest.Start(t)
	standIn := mocktest.Start(t,
		mocktest.WithConfig(func(c *server.Config) { c.Strict = false }),
		mocktest.WithVendors(wrapped("pingone", func(v server.Vendor) server.Vendor {
			return handlerMutant{Vendor: handlerMutant{Vendor: v, pointer: "/device", value: nil}, pointer: "/idleTimeoutInMinutes", value: "144000"}
		})...))
	vars := contracts.MockVars(standIn.URL)["pingone"]
	realT := contracts.Target{Name: "stand-in vendor", Client: standIn.Client(), Real: true, Checker: checker,
		Vars: map[string]map[string]string{"pingone": vars}}
	mockT := contracts.Target{Name: "mock", Client: mockSrv.AnonymousClient(), Vars: contracts.MockVars(mockSrv.URL), Checker: checker}
	sc := scenario(t, "pingone/seed_create_session.yaml")
	got := contracts.Run(context.Background(), realT, sc)
	want := contracts.Run(context.Background(), mockT, sc)
	ds := contracts.CompareRuns(want, got)
	text := contracts.DriftReportText(ds)
	for _, w := range []string{
		"/idleTimeoutInMinutes type: mock number 144000, vendor string \"144000\"",
		"/device type: mock object",
		"create session: vendor breaks the spec: response idleTimeoutInMinutes: idleTimeoutInMinutes: value must be an integer (rule type)",
		"create session: vendor misses an expectation: /idleTimeoutInMinutes = \"144000\", want 144000",
	} {
		if !strings.Contains(text, w) {
			t.Errorf("drift report does not say %q:\n%s", w, text)
		}
	}
	// Mock-only scenarios are skipped for real vendors.
	if r := contracts.Run(context.Background(), realT, scenario(t, "pingone/fixture_session.yaml")); r.Skipped == "" {
		t.Error("mock-only scenario ran against a real vendor")
	}
	for _, tt := range []struct {
		in   string
		want contracts.DriftMode
		ok   bool
	}{{"", contracts.DriftReport, true}, {"report", contracts.DriftReport, true}, {"FAIL", contracts.DriftFail, true}, {"maybe", "", false}} {
		got, err := contracts.ParseDriftMode(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseDriftMode(%q) = %q, %v", tt.in, got, err)
		}
	}
}

// TestRealVendorVars: credentials come from the environment; missing ones
// are listed for the skip message.
func TestRealVendorVars(t *testing.T) {
	env := map[string]string{"PINGONE_TOKEN": "t", "PINGONE_ENV_ID": "e"}
	vs, missing := contracts.RealVendorVars("pingone", func(k string) string { return env[k] })
	if strings.Join(missing, ",") != "PINGONE_USER_ID" {
		t.Errorf("missing = %v", missing)
	}
	if vs["apiPath"] != "https://api.pingone.com/v1" || vs["accessToken"] != "t" {
		t.Errorf("vars = %v", vs)
	}
	_, missing = contracts.RealVendorVars("zitadel", func(string) string { return "" })
	if len(missing) != 4 {
		t.Errorf("zitadel missing = %v", missing)
	}
}

func TestJUnitReport(t *testing.T) {
	var j contracts.JUnit
	j.Add(contracts.JUnitCase{Suite: "examples", Name: "openapi/pingone/sessions.yaml", Time: 10 * time.Millisecond})
	j.Add(contracts.JUnitCase{Suite: "scenarios.mock", Name: "pingone/create", Failure: "step 1: status 500, want 201\nmore <details> & stuff"})
	j.Add(contracts.JUnitCase{Suite: "scenarios.pingone", Name: "pingone", Skipped: "set PINGONE_TOKEN"})
	b, err := j.Marshal("idpmock contracts", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Skipped  int `xml:"skipped,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				Skipped *struct{} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b)
	}
	if doc.Tests != 3 || doc.Failures != 1 || doc.Skipped != 1 || len(doc.Suites) != 3 {
		t.Fatalf("counts: %+v\n%s", doc, b)
	}
	var failure string
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if c.Failure != nil {
				failure = c.Failure.Message + "|" + c.Failure.Text
			}
		}
	}
	if failure != "step 1: status 500, want 201|step 1: status 500, want 201\nmore <details> & stuff" {
		t.Errorf("failure = %q", failure)
	}
}
