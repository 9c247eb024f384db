package contracts

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// JUnit collects test cases and writes them as a JUnit XML report, the
// format CI systems (GitLab, Jenkins, GitHub test reporters) read.
type JUnit struct {
	mu    sync.Mutex
	cases []JUnitCase
}

// JUnitCase is one check: a scenario against a target, a spec's examples,
// a fixture file.
type JUnitCase struct {
	Suite   string // e.g. "scenarios.mock", "examples", "fixtures"
	Name    string
	Time    time.Duration
	Failure string // "" when it passed
	Skipped string // reason, when skipped
	Output  string // extra log (drift report)
}

// Add records one case; safe for concurrent use.
func (j *JUnit) Add(c JUnitCase) {
	if j == nil {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.cases = append(j.cases, c)
}

// AddResult records a scenario run.
func (j *JUnit) AddResult(suite string, r Result, failed bool, output string) {
	c := JUnitCase{Suite: suite, Name: r.Scenario.Vendor + "/" + r.Scenario.Name, Time: r.Duration, Skipped: r.Skipped, Output: output}
	if failed {
		c.Failure = r.Report()
	}
	j.Add(c)
}

type xmlSuites struct {
	XMLName  xml.Name   `xml:"testsuites"`
	Name     string     `xml:"name,attr"`
	Tests    int        `xml:"tests,attr"`
	Failures int        `xml:"failures,attr"`
	Skipped  int        `xml:"skipped,attr"`
	Time     string     `xml:"time,attr"`
	Suites   []xmlSuite `xml:"testsuite"`
}

type xmlSuite struct {
	Name      string    `xml:"name,attr"`
	Tests     int       `xml:"tests,attr"`
	Failures  int       `xml:"failures,attr"`
	Skipped   int       `xml:"skipped,attr"`
	Time      string    `xml:"time,attr"`
	Timestamp string    `xml:"timestamp,attr"`
	Cases     []xmlCase `xml:"testcase"`
}

type xmlCase struct {
	Name      string      `xml:"name,attr"`
	Classname string      `xml:"classname,attr"`
	Time      string      `xml:"time,attr"`
	Failure   *xmlMessage `xml:"failure,omitempty"`
	Skipped   *xmlMessage `xml:"skipped,omitempty"`
	SystemOut string      `xml:"system-out,omitempty"`
}

type xmlMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// Marshal renders the report.
func (j *JUnit) Marshal(name string, at time.Time) ([]byte, error) {
	j.mu.Lock()
	cases := append([]JUnitCase(nil), j.cases...)
	j.mu.Unlock()
	bySuite := map[string]*xmlSuite{}
	var order []string
	doc := xmlSuites{Name: name}
	var total time.Duration
	for _, c := range cases {
		s := bySuite[c.Suite]
		if s == nil {
			s = &xmlSuite{Name: c.Suite, Timestamp: at.UTC().Format("2006-01-02T15:04:05")}
			bySuite[c.Suite] = s
			order = append(order, c.Suite)
		}
		xc := xmlCase{Name: c.Name, Classname: "idpmock.contracts." + c.Suite, Time: secs(c.Time), SystemOut: c.Output}
		switch {
		case c.Failure != "":
			xc.Failure = &xmlMessage{Message: firstLine(c.Failure), Type: "contract", Text: c.Failure}
			s.Failures++
			doc.Failures++
		case c.Skipped != "":
			xc.Skipped = &xmlMessage{Message: c.Skipped}
			s.Skipped++
			doc.Skipped++
		}
		s.Tests++
		doc.Tests++
		total += c.Time
		s.Cases = append(s.Cases, xc)
	}
	sort.Strings(order)
	for _, n := range order {
		s := bySuite[n]
		var d time.Duration
		for _, c := range cases {
			if c.Suite == n {
				d += c.Time
			}
		}
		s.Time = secs(d)
		doc.Suites = append(doc.Suites, *s)
	}
	doc.Time = secs(total)
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

// WriteFile writes the report to path, creating its directory.
func (j *JUnit) WriteFile(path, name string) error {
	b, err := j.Marshal(name, time.Now())
	if err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return os.WriteFile(path, b, 0o644)
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
