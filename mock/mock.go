// Package mock is idpmock's composition root: the one place that lists the
// vendors the server offers and their flags. Adding a vendor means adding
// it here, after its spec, fixtures folder and handler package.
package mock

import (
	"flag"

	"github.com/idpmock/idpmock/mock/pingone"
	"github.com/idpmock/idpmock/mock/server"
	"github.com/idpmock/idpmock/mock/zitadel"
)

// Config holds every vendor's options.
type Config struct {
	PingOne pingone.Options
}

// RegisterFlags registers every vendor's flags on fs (each gets an
// IDPMOCK_<FLAG> environment twin from the command).
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.PingOne.BaseURL, "pingone-base-url", "", "absolute PingOne API base for _links, /v1 included (default: the request's scheme and host + /v1)")
	fs.BoolVar(&c.PingOne.KnownEnvironmentsOnly, "pingone-known-environments-only", false, "answer 403 for environments not in the fixtures, as PingOne does for unknown environments")
}

// Vendors returns the factories of every vendor, configured by c.
func Vendors(c Config) []server.VendorFactory {
	return []server.VendorFactory{
		pingone.Factory(c.PingOne),
		zitadel.New,
	}
}
