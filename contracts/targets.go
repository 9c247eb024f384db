package contracts

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/idpmock/idpmock/mock"
	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/conform"
	"github.com/idpmock/idpmock/mock/server"
)

// Environment variables the suite reads.
const (
	EnvBaseURL = "IDPMOCK_CONTRACT_BASE_URL" // a running idpmock to test instead of the in-process one
	EnvDrift   = "IDPMOCK_DRIFT"             // report (default) or fail
	EnvJUnit   = "IDPMOCK_JUNIT"             // write a JUnit XML report to this path
	// EnvFixtures is a fixtures directory (or proxy recording) to check too.
	EnvFixtures = "IDPMOCK_CONTRACT_FIXTURES"
	// EnvToken is the bearer token sent to a running idpmock (any non-empty value).
	EnvToken = "IDPMOCK_CONTRACT_TOKEN"
)

// MockToken is the bearer token sent to the mock, which accepts any.
const MockToken = "idpmock-contract-token"

// MockVars are the target variables for idpmock serving the embedded
// fixtures (fixtures/pingone/environments.json, fixtures/zitadel/users.json).
func MockVars(base string) map[string]map[string]string {
	base = strings.TrimRight(base, "/")
	tok := MockToken
	if t := os.Getenv(EnvToken); t != "" {
		tok = t
	}
	return map[string]map[string]string{
		"pingone": {
			"apiPath":          base + "/v1",
			"accessToken":      tok,
			"envID":            "abfba8f6-49eb-49f5-a5d9-80ad5c98f9f6",
			"userID":           "07e1ee43-9f56-4254-8cfb-1709b5ea8e24",
			"passwordPolicyID": "874d5c7d-5e1c-4e73-b2b5-dfe1453b02f5",
		},
		"zitadel": {
			"baseURL":     base,
			"accessToken": tok,
			"loginName":   "mini@mouse.com",
			"password":    "Password1!",
		},
	}
}

// realVendor describes the environment variables of a real-vendor run.
type realVendor struct {
	vendor   string
	required [][2]string // variable → environment variable
	optional [][3]string // variable → environment variable, default
}

var realVendors = []realVendor{
	{
		vendor: "pingone",
		required: [][2]string{
			{"accessToken", "PINGONE_TOKEN"},
			{"envID", "PINGONE_ENV_ID"},
			{"userID", "PINGONE_USER_ID"},
		},
		optional: [][3]string{
			{"apiPath", "PINGONE_API_URL", "https://api.pingone.com/v1"},
			{"passwordPolicyID", "PINGONE_PASSWORD_POLICY_ID", "874d5c7d-5e1c-4e73-b2b5-dfe1453b02f5"},
		},
	},
	{
		vendor: "zitadel",
		required: [][2]string{
			{"baseURL", "ZITADEL_URL"},
			{"accessToken", "ZITADEL_TOKEN"},
			{"loginName", "ZITADEL_LOGIN_NAME"},
			{"password", "ZITADEL_PASSWORD"},
		},
	},
}

// RealVendorVars reads a real vendor's variables from the environment.
// missing lists the unset required variables; the run is then skipped.
func RealVendorVars(vendor string, getenv func(string) string) (vs map[string]string, missing []string) {
	for _, rv := range realVendors {
		if rv.vendor != vendor {
			continue
		}
		vs = map[string]string{}
		for _, r := range rv.required {
			val := getenv(r[1])
			if val == "" {
				missing = append(missing, r[1])
			}
			vs[r[0]] = val
		}
		for _, o := range rv.optional {
			val := getenv(o[1])
			if val == "" {
				val = o[2]
			}
			vs[o[0]] = val
		}
		if b := vs["baseURL"]; b != "" {
			vs["baseURL"] = strings.TrimRight(b, "/")
		}
		if a := vs["apiPath"]; a != "" {
			vs["apiPath"] = strings.TrimRight(a, "/")
		}
		return vs, missing
	}
	return nil, []string{"(no real-vendor settings for " + vendor + ")"}
}

// RealVendorEnv documents the variables per vendor, for skip messages.
func RealVendorEnv(vendor string) string {
	for _, rv := range realVendors {
		if rv.vendor != vendor {
			continue
		}
		var parts []string
		for _, r := range rv.required {
			parts = append(parts, r[1])
		}
		for _, o := range rv.optional {
			parts = append(parts, o[1]+" (optional, default "+o[2]+")")
		}
		return strings.Join(parts, ", ")
	}
	return ""
}

// VendorSpecs builds every vendor the mock serves, for their specs.
func VendorSpecs(edit func(server.Vendor) server.Vendor) ([]server.Vendor, error) {
	var out []server.Vendor
	for _, f := range mock.Vendors(mock.Config{}) {
		v, err := f(server.Deps{Clock: clock.New()})
		if err != nil {
			return nil, err
		}
		if edit != nil {
			v = edit(v)
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

// NewChecker is a conformance checker over the vendors' specs.
func NewChecker(vendors []server.Vendor) (*conform.Checker, error) {
	var specs []conform.Spec
	for _, v := range vendors {
		doc, err := v.Spec()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", v.Name(), err)
		}
		specs = append(specs, conform.Spec{Vendor: v.Name(), Doc: doc, BasePath: v.BasePath()})
	}
	return conform.New(specs...)
}

// SpecFiles names each vendor's spec file in findings.
var SpecFiles = map[string]string{
	"pingone": "openapi/pingone/sessions.yaml",
	"zitadel": "openapi/zitadel/session_service.yaml",
}

// NewSpecSchemasAll compiles every vendor's spec as JSON Schema.
func NewSpecSchemasAll(vendors []server.Vendor) (map[string]*SpecSchemas, error) {
	out := map[string]*SpecSchemas{}
	for _, v := range vendors {
		doc, err := v.Spec()
		if err != nil {
			return nil, err
		}
		file := SpecFiles[v.Name()]
		if file == "" {
			file = "spec of " + v.Name()
		}
		s, err := NewSpecSchemas(file, doc)
		if err != nil {
			return nil, err
		}
		out[v.Name()] = s
	}
	return out, nil
}
