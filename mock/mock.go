// Package mock is idpmock's composition root: the one place that lists the
// vendors the server offers. Adding a vendor means adding it here, after
// its spec, fixtures folder and handler package.
package mock

import (
	"flag"

	"github.com/idpmock/idpmock/mock/server"
)

// Config holds every vendor's options.
type Config struct{}

// RegisterFlags registers every vendor's flags on fs.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {}

// Vendors returns the factories of every vendor, configured by c.
func Vendors(c Config) []server.VendorFactory {
	return nil
}
