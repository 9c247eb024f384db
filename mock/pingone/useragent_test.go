package pingone

import (
	"bufio"
	"os"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"

	"github.com/ua-parser/uap-go/uaparser"
)

// The filtered parser must answer exactly as ua-parser with every rule
// compiled, on a corpus of real agents and on hand-picked edge cases.
func TestParseAgentMatchesFullParser(t *testing.T) {
	agents := []string{
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:103.0) Gecko/20100101 Firefox/103.0", // the seeds'
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
		"MOZILLA/5.0 (MACINTOSH; INTEL MAC OS X 10.15; RV:103.0) GECKO/20100101 FIREFOX/103.0", // case-insensitive rules
		"curl/8.5.0", "", "Other", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
		"Mozilla/5.0 (Windows NT 10.0) Gecko Firefox/115.0 \u212a\u00e9", // non-ASCII: the full parser
	}
	f, err := os.Open("testdata/useragents.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for sc.Scan() {
		if line := sc.Text(); !strings.HasPrefix(line, "#") {
			agents = append(agents, line)
		}
	}
	if len(agents) < 1000 {
		t.Fatalf("corpus has %d agents", len(agents))
	}
	full, err := uaparser.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, ua := range agents {
		p := uaRules().parserFor(ua)
		if got, want := *p.ParseUserAgent(ua), *full.ParseUserAgent(ua); got != want {
			t.Errorf("%q: user agent %+v, full parser %+v", ua, got, want)
		}
		if got, want := *p.ParseOs(ua), *full.ParseOs(ua); got != want {
			t.Errorf("%q: os %+v, full parser %+v", ua, got, want)
		}
		if got, want := *p.ParseDevice(ua), *full.ParseDevice(ua); got != want {
			t.Errorf("%q: device %+v, full parser %+v", ua, got, want)
		}
	}
}

// required must never name literals a match can lack: for each case, every
// listed string matches and contains one of the literals.
func TestRequiredLiterals(t *testing.T) {
	tests := []struct {
		expr    string
		want    []string // nil: no set
		matches []string
	}{
		{`Firefox/(\d+)`, []string{"firefox/"}, []string{"Firefox/1"}},
		{`(?i)(Chrome|CriOS)/(\d+)`, []string{"hrome", "rios"}, []string{"CRIOS/5", "chrome/9"}}, // factored: C(?:hrome|riOS)
		{`(?:Mobile)?Safari`, []string{"safari"}, []string{"Safari", "MobileSafari"}},
		{`(Opera)?`, nil, []string{""}},
		{`\d+\.\d+`, []string{"."}, []string{"1.2"}},
		{`\d+[a-z]`, nil, []string{"1a"}},
		{`(a|b*)x`, []string{"x"}, []string{"x", "ax", "bbx"}},
		{`(?:ab){2,}`, []string{"ab"}, []string{"abab"}},
	}
	for _, tt := range tests {
		re, err := syntax.Parse(tt.expr, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := required(re)
		if !ok {
			got = nil
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s: literals %q, want %q", tt.expr, got, tt.want)
		}
		rx := regexp.MustCompile(tt.expr)
		for _, m := range tt.matches {
			if !rx.MatchString(m) {
				t.Fatalf("%s does not match %q: bad case", tt.expr, m)
			}
			if got != nil && !hit(strings.ToLower(m), got) {
				t.Errorf("%s matches %q, which has none of %q", tt.expr, m, got)
			}
		}
	}
}
