package pingone

import (
	"sync"

	"github.com/ua-parser/uap-go/uaparser"

	gen "github.com/idpmock/idpmock/gen/pingone"
)

// PingOne's browser, operatingSystem and device values ("Mac OS X", device
// "Mac") are ua-parser's families, so the mock derives them with ua-parser
// too. The parser compiles its regexes once, on first use: about 70 ms of
// CPU and 12 MB of tables that a mock serving only ZITADEL never needs.
var uaParser = sync.OnceValue(func() *uaparser.Parser {
	p, err := uaparser.New()
	if err != nil {
		panic("pingone: ua-parser built-in regexes: " + err.Error()) // programming error, not input
	}
	return p
})

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
	// The three lookups one after the other: uaparser's Parse runs each in
	// its own goroutine, which costs more than the lookups on a busy server.
	p := uaParser()
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
