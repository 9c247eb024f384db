package pingone

import (
	"regexp/syntax"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/ua-parser/uap-go/uaparser"
	"gopkg.in/yaml.v3"

	gen "github.com/idpmock/idpmock/gen/pingone"
)

// PingOne's browser, operatingSystem and device values ("Mac OS X", device
// "Mac") are ua-parser's families, so the mock derives them with ua-parser
// too. Compiling all of ua-parser's ~1,200 regexes costs about 70 ms of CPU
// and 12 MB of tables, of which a user agent needs about 20: each rule is
// tried in ua-parser's order only if the agent contains a literal that
// every match of the rule contains (see required), and only those rules are
// compiled, by ua-parser itself, into a parser for that one agent.
var uaRules = sync.OnceValue(func() *rules {
	r := &rules{}
	if err := yaml.Unmarshal(uaparser.DefinitionYaml, &r.defs); err != nil {
		panic("pingone: ua-parser built-in rules: " + err.Error()) // programming error, not input
	}
	r.ua = make([][]string, len(r.defs.UA))
	for i, p := range r.defs.UA {
		r.ua[i] = triggers(p.Expr, p.Flags)
	}
	r.os = make([][]string, len(r.defs.OS))
	for i, p := range r.defs.OS {
		r.os[i] = triggers(p.Expr, p.Flags)
	}
	r.dev = make([][]string, len(r.defs.Device))
	for i, p := range r.defs.Device {
		r.dev[i] = triggers(p.Expr, p.Flags)
	}
	return r
})

// fullParser is ua-parser with every rule compiled, for agents the literal
// filter cannot judge (non-ASCII text, where case folding goes beyond
// strings.ToLower).
var fullParser = sync.OnceValue(func() *uaparser.Parser {
	p, err := uaparser.New()
	if err != nil {
		panic("pingone: ua-parser built-in regexes: " + err.Error())
	}
	return p
})

// rules are ua-parser's definitions and, per rule, its trigger literals
// (nil: none known, always tried).
type rules struct {
	defs        uaparser.RegexDefinitions
	ua, os, dev [][]string
}

// triggers returns lower-case literals one of which every match of the
// rule contains, or nil if there is no such set.
func triggers(expr, flags string) []string {
	if flags != "" {
		expr = "(?" + flags + ")" + expr
	}
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil // ua-parser would fail to compile it too; always try it
	}
	set, ok := required(re)
	if !ok {
		return nil
	}
	return set
}

// required reports a set of literals (lower case, ASCII) such that every
// string re matches contains one of them. It is conservative: ok is false
// whenever it cannot tell.
func required(re *syntax.Regexp) (set []string, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		s := strings.ToLower(string(re.Rune))
		if !isASCII(s) {
			return nil, false
		}
		return []string{s}, true
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpConcat: // any part's set will do: take the most selective
		for _, sub := range re.Sub {
			if s, sok := required(sub); sok && (!ok || selectivity(s) > selectivity(set)) {
				set, ok = s, true
			}
		}
		return set, ok
	case syntax.OpAlternate: // every branch must have one
		for _, sub := range re.Sub {
			s, sok := required(sub)
			if !sok {
				return nil, false
			}
			set = append(set, s...)
		}
		return set, true
	}
	return nil, false
}

// selectivity ranks literal sets: longer shortest literal first, then fewer.
func selectivity(set []string) int {
	shortest := 1 << 20
	for _, s := range set {
		shortest = min(shortest, len(s))
	}
	return shortest*64 - len(set)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// parserFor returns a ua-parser that knows only the rules that can match
// ua, in ua-parser's order, so its answers are the full parser's.
func (r *rules) parserFor(ua string) *uaparser.Parser {
	if !isASCII(ua) {
		return fullParser()
	}
	low := strings.ToLower(ua)
	var sub uaparser.RegexDefinitions // clones: ua-parser compiles into them
	for i, t := range r.ua {
		if hit(low, t) {
			sub.UA = append(sub.UA, r.defs.UA[i].Clone())
		}
	}
	for i, t := range r.os {
		if hit(low, t) {
			sub.OS = append(sub.OS, r.defs.OS[i].Clone())
		}
	}
	for i, t := range r.dev {
		if hit(low, t) {
			sub.Device = append(sub.Device, r.defs.Device[i].Clone())
		}
	}
	p, err := uaparser.New(uaparser.WithRegexDefinitions(sub), uaparser.WithCacheSize(1))
	if err != nil {
		return fullParser()
	}
	return p
}

func hit(low string, trigger []string) bool {
	if trigger == nil {
		return true
	}
	for _, l := range trigger {
		if strings.Contains(low, l) {
			return true
		}
	}
	return false
}

// agent is what a user agent string tells about the client.
type agent struct {
	Browser gen.Browser
	OS      gen.OperatingSystem
	Device  gen.Device
}

// agents memoizes parseAgent: every read of a session renders its agent,
// and a test suite sends few distinct user agents. Bounded so hostile
// input cannot grow it; past the bound agents are parsed each time.
var agents struct {
	sync.RWMutex
	m map[string]agent
}

const maxAgents = 4096

// parseAgent derives browser, operating system and device from ua. Agents
// ua-parser does not know come back as family "Other" without a version, as
// ua-parser reports them. The result's version pointers are shared: callers
// must not write through them.
func parseAgent(ua string) agent {
	agents.RLock()
	a, ok := agents.m[ua]
	agents.RUnlock()
	if ok {
		return a
	}
	a = parseAgentUncached(ua)
	agents.Lock()
	if agents.m == nil {
		agents.m = make(map[string]agent)
	}
	if len(agents.m) < maxAgents {
		agents.m[ua] = a
	}
	agents.Unlock()
	return a
}

func parseAgentUncached(ua string) agent {
	p := uaRules().parserFor(ua)
	ag, os, dev := p.ParseUserAgent(ua), p.ParseOs(ua), p.ParseDevice(ua)
	a := agent{
		Browser: gen.Browser{Name: family(ag.Family)},
		OS:      gen.OperatingSystem{Name: family(os.Family)},
		Device:  gen.Device{Type: family(dev.Family)},
	}
	if v := ag.ToVersionString(); v != "" {
		a.Browser.Version = &v
	}
	if v := os.ToVersionString(); v != "" {
		a.OS.Version = &v
	}
	return a
}

func family(f string) string {
	if f == "" {
		return "Other"
	}
	return f
}
