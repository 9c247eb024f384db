package contracts

import (
	"fmt"
	"sort"
	"strings"
)

// DriftMode says what drift between the mock and a real vendor does.
type DriftMode string

const (
	// DriftReport logs drift and passes (the default): vendors change,
	// and a scheduled job should tell, not block.
	DriftReport DriftMode = "report"
	// DriftFail fails the run on any drift.
	DriftFail DriftMode = "fail"
)

// ParseDriftMode reads IDPMOCK_DRIFT ("" means report).
func ParseDriftMode(s string) (DriftMode, error) {
	switch DriftMode(strings.ToLower(strings.TrimSpace(s))) {
	case "", DriftReport:
		return DriftReport, nil
	case DriftFail:
		return DriftFail, nil
	}
	return "", fmt.Errorf("%s=%q: want report or fail", EnvDrift, s)
}

// Drift is one difference between the mock and the real vendor for the
// same step of the same scenario.
type Drift struct {
	Scenario string
	Step     string
	Pointer  string // JSON pointer into the response body; "" for the status
	Kind     string // status, expectation, spec, missing-at-vendor, only-at-vendor, type
	Mock     string // what the mock answered there
	Vendor   string // what the vendor answered there
}

func (d Drift) String() string {
	head := d.Scenario + " / " + d.Step + ": "
	switch d.Kind {
	case "expectation":
		return head + "vendor misses an expectation: " + d.Vendor
	case "spec":
		return head + "vendor breaks the spec: " + d.Vendor
	case "error":
		return head + "vendor request failed: " + d.Vendor
	case "status":
		return head + fmt.Sprintf("status: mock %s, vendor %s", orDash(d.Mock), orDash(d.Vendor))
	}
	return head + fmt.Sprintf("%s %s: mock %s, vendor %s", d.Pointer, d.Kind, orDash(d.Mock), orDash(d.Vendor))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// CompareRuns reports, step by step, how the vendor's run differs from
// the mock's run of the same scenario: statuses, unmet expectations and
// spec violations at the vendor, and the shape of the bodies field by
// field (presence and JSON type; values differ naturally: ids, times).
func CompareRuns(mockRun, vendorRun Result) []Drift {
	var out []Drift
	name := vendorRun.Scenario.Name
	for i, vs := range vendorRun.Steps {
		add := func(ptr, kind, m, v string) {
			out = append(out, Drift{Scenario: name, Step: vs.Step, Pointer: ptr, Kind: kind, Mock: m, Vendor: v})
		}
		if vs.Err != nil {
			add("", "error", "", vs.Err.Error())
			continue
		}
		for _, f := range vs.Failures {
			add("", "expectation", "", f)
		}
		for _, v := range vs.Violations {
			add("", "spec", "", v)
		}
		if i >= len(mockRun.Steps) {
			add("", "status", "(step not reached)", fmt.Sprint(vs.Status))
			continue
		}
		ms := mockRun.Steps[i]
		if ms.Status != vs.Status {
			add("", "status", fmt.Sprint(ms.Status), fmt.Sprint(vs.Status))
			continue // different answers: a shape diff would be noise
		}
		shapeDiff("", ms.Body, vs.Body, add)
	}
	return out
}

func shapeDiff(ptr string, m, v any, add func(ptr, kind, m, v string)) {
	mt, vt := jsonType(m), jsonType(v)
	if mt == "integer" {
		mt = "number"
	}
	if vt == "integer" {
		vt = "number"
	}
	if mt != vt {
		add(ptr, "type", mt+" "+show(m), vt+" "+show(v))
		return
	}
	switch mm := m.(type) {
	case map[string]any:
		vm := v.(map[string]any)
		keys := map[string]bool{}
		for k := range mm {
			keys[k] = true
		}
		for k := range vm {
			keys[k] = true
		}
		names := make([]string, 0, len(keys))
		for k := range keys {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			p := ptr + "/" + esc(k)
			mv, inM := mm[k]
			vv, inV := vm[k]
			switch {
			case !inV:
				add(p, "missing-at-vendor", show(mv), "")
			case !inM:
				add(p, "only-at-vendor", "", show(vv))
			default:
				shapeDiff(p, mv, vv, add)
			}
		}
	case []any:
		va := v.([]any)
		if len(mm) > 0 && len(va) > 0 {
			shapeDiff(ptr+"/0", mm[0], va[0], add)
		}
	}
}

// DriftReportText renders drift for logs and JUnit output.
func DriftReportText(ds []Drift) string {
	if len(ds) == 0 {
		return "no drift"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d differences between the mock and the vendor:\n", len(ds))
	for _, d := range ds {
		b.WriteString("  " + d.String() + "\n")
	}
	return b.String()
}
