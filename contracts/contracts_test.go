package contracts_test

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpmock/idpmock/contracts"
	"github.com/idpmock/idpmock/fixtures"
	"github.com/idpmock/idpmock/mock/mocktest"
	"github.com/idpmock/idpmock/mock/server"
)

var (
	baseURL = flag.String("base-url", "", "run the scenarios against this running idpmock (default $"+contracts.EnvBaseURL+"; empty: an in-process mock)")
	junit   = flag.String("junit", "", "write a JUnit XML report here (default $"+contracts.EnvJUnit+")")
	drift   = flag.String("drift", "", "real-vendor drift: report or fail (default $"+contracts.EnvDrift+", else report)")
	extra   = flag.String("fixtures", "", "also check this fixtures directory (--fixtures layout, or a proxy recording) (default $"+contracts.EnvFixtures+")")
)

// report collects every check for the JUnit file.
var report = &contracts.JUnit{}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	path := *junit
	if path == "" {
		path = os.Getenv(contracts.EnvJUnit)
	}
	if path != "" {
		if err := report.WriteFile(path, "idpmock contracts"); err != nil {
			fmt.Fprintln(os.Stderr, "contracts: JUnit report:", err)
			code = 1
		} else {
			fmt.Fprintln(os.Stderr, "contracts: JUnit report written to", path)
		}
	}
	os.Exit(code)
}

func setting(flagValue, env string) string {
	if flagValue != "" {
		return flagValue
	}
	return os.Getenv(env)
}

func vendors(t testing.TB) []server.Vendor {
	t.Helper()
	vs, err := contracts.VendorSpecs(nil)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func specSchemas(t testing.TB, vs []server.Vendor) map[string]*contracts.SpecSchemas {
	t.Helper()
	ss, err := contracts.NewSpecSchemasAll(vs)
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

func findingsText(fs []contracts.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("\n  " + f.String())
	}
	return b.String()
}

// TestSpecExamples: every request, response, parameter and schema example
// of each spec satisfies its schema.
func TestSpecExamples(t *testing.T) {
	vs := vendors(t)
	for name, ss := range specSchemas(t, vs) {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			fs := ss.CheckExamples()
			c := contracts.JUnitCase{Suite: "examples", Name: ss.File, Time: time.Since(start)}
			if len(fs) > 0 {
				c.Failure = fmt.Sprintf("%d examples break their schema:%s", len(fs), findingsText(fs))
				t.Error(c.Failure)
			}
			report.Add(c)
		})
	}
}

// TestFixtures: every seed file (and overrides file) of the embedded
// fixtures satisfies its schema, whose API-shaped parts are the spec's.
func TestFixtures(t *testing.T) {
	ss := specSchemas(t, vendors(t))
	dirs := []struct {
		name string
		fsys fs.FS
	}{{"fixtures", fixtures.Data}}
	if d := setting(*extra, contracts.EnvFixtures); d != "" {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			t.Fatalf("%s: not a directory", d)
		}
		dirs = append(dirs, struct {
			name string
			fsys fs.FS
		}{d, os.DirFS(d)})
	}
	for _, d := range dirs {
		start := time.Now()
		found := contracts.CheckFixtures(d.fsys, d.name, ss)
		c := contracts.JUnitCase{Suite: "fixtures", Name: d.name + "/", Time: time.Since(start)}
		if len(found) > 0 {
			c.Failure = fmt.Sprintf("%d fixture findings:%s", len(found), findingsText(found))
			t.Error(c.Failure)
		}
		report.Add(c)
	}
}

var (
	scenariosOnce sync.Once
	scenarios     []*contracts.Scenario
	scenariosErr  error
)

// loadScenarios parses the scenario files once per test binary; runs
// never modify them.
func loadScenarios(t testing.TB) []*contracts.Scenario {
	t.Helper()
	scenariosOnce.Do(func() { scenarios, scenariosErr = contracts.Load(contracts.Files, "scenarios") })
	if scenariosErr != nil {
		t.Fatalf("scenario files:\n%v", scenariosErr)
	}
	return scenarios
}

// TestScenarioFiles: every scenario file is valid, and each vendor has
// its documented flows.
func TestScenarioFiles(t *testing.T) {
	scs := loadScenarios(t)
	per := map[string]int{}
	for _, s := range scs {
		per[s.Vendor]++
	}
	for _, v := range []string{"pingone", "zitadel"} {
		if per[v] < 4 {
			t.Errorf("%s has %d scenarios, want the documented flows (at least 4)", v, per[v])
		}
	}
}

// TestScenarios runs every scenario against the in-process mock (strict
// mode), or against a running idpmock given by -base-url or
// IDPMOCK_CONTRACT_BASE_URL.
func TestScenarios(t *testing.T) {
	scs := loadScenarios(t)
	vs := vendors(t)
	checker, err := contracts.NewChecker(vs)
	if err != nil {
		t.Fatal(err)
	}
	target := contracts.Target{Checker: checker}
	if u := setting(*baseURL, contracts.EnvBaseURL); u != "" {
		target.Name = u
		target.Client = &http.Client{Timeout: 30 * time.Second}
		target.Vars = contracts.MockVars(u)
	} else {
		srv := mocktest.Start(t)
		target.Name = "in-process mock (strict)"
		target.Client = srv.AnonymousClient()
		target.Vars = contracts.MockVars(srv.URL)
	}
	for _, sc := range scs {
		t.Run(sc.Vendor+"/"+strings.TrimSuffix(sc.File[strings.LastIndex(sc.File, "/")+1:], ".yaml"), func(t *testing.T) {
			res := contracts.Run(context.Background(), target, sc)
			failed := res.Failed()
			report.AddResult("scenarios.mock", res, failed, "")
			if failed {
				t.Error(res.Report())
			}
		})
	}
}

// TestRealVendors runs the scenarios against a real PingOne environment
// or ZITADEL instance when their credentials are in the environment, and
// reports how the vendor's answers differ from the mock's.
func TestRealVendors(t *testing.T) {
	mode, err := contracts.ParseDriftMode(setting(*drift, contracts.EnvDrift))
	if err != nil {
		t.Fatal(err)
	}
	scs := loadScenarios(t)
	vs := vendors(t)
	checker, err := contracts.NewChecker(vs)
	if err != nil {
		t.Fatal(err)
	}
	for _, vendor := range []string{"pingone", "zitadel"} {
		t.Run(vendor, func(t *testing.T) {
			vars, missing := contracts.RealVendorVars(vendor, os.Getenv)
			if len(missing) > 0 {
				msg := fmt.Sprintf("real %s run skipped: set %s (missing: %s)", vendor, contracts.RealVendorEnv(vendor), strings.Join(missing, ", "))
				report.Add(contracts.JUnitCase{Suite: "scenarios." + vendor, Name: vendor, Skipped: msg})
				t.Skip(msg)
			}
			srv := mocktest.Start(t)
			mockT := contracts.Target{Name: "mock", Client: srv.AnonymousClient(), Vars: contracts.MockVars(srv.URL), Checker: checker}
			realT := contracts.Target{Name: vendor, Client: &http.Client{Timeout: 30 * time.Second}, Real: true,
				Vars: map[string]map[string]string{vendor: vars}, Checker: checker}
			for _, sc := range scs {
				if sc.Vendor != vendor {
					continue
				}
				t.Run(sc.Name, func(t *testing.T) {
					got := contracts.Run(context.Background(), realT, sc)
					if got.Skipped != "" {
						report.AddResult("scenarios."+vendor, got, false, "")
						t.Skip(got.Skipped)
					}
					want := contracts.Run(context.Background(), mockT, sc)
					ds := contracts.CompareRuns(want, got)
					text := contracts.DriftReportText(ds)
					report.AddResult("scenarios."+vendor, got, mode == contracts.DriftFail && len(ds) > 0, text)
					switch {
					case len(ds) == 0:
					case mode == contracts.DriftFail:
						t.Errorf("drift (%s=fail):\n%s\n%s", contracts.EnvDrift, text, got.Report())
					default:
						t.Logf("drift (report only; %s=fail makes it fail):\n%s", contracts.EnvDrift, text)
					}
				})
			}
		})
	}
}
