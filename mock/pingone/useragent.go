package pingone

import (
	"sync"

	"github.com/ua-parser/uap-go/uaparser"

	gen "github.com/idpmock/idpmock/gen/pingone"
)

// PingOne's browser, operatingSystem and device values ("Mac OS X", device
// "Mac") are ua-parser's families, so the mock derives them with ua-parser
// too. The parser compiles its regexes once, on first use.
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

// parseAgent derives browser, operating system and device from ua. Agents
// ua-parser does not know come back as family "Other" without a version, as
// ua-parser reports them.
func parseAgent(ua string) agent {
	c := uaParser().Parse(ua)
	a := agent{
		Browser: gen.Browser{Name: family(c.UserAgent.Family)},
		OS:      gen.OperatingSystem{Name: family(c.Os.Family)},
		Device:  gen.Device{Type: family(c.Device.Family)},
	}
	if v := c.UserAgent.ToVersionString(); v != "" {
		a.Browser.Version = &v
	}
	if v := c.Os.ToVersionString(); v != "" {
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
