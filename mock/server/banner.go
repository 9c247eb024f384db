package server

import "github.com/idpmock/idpmock/mock/admin"

// Endpoint is where one vendor answers: its API path prefixes.
type Endpoint struct {
	Vendor string
	Paths  []string
}

// Endpoints lists each vendor's path prefixes, vendors sorted by name, for
// the start-up banner and the / page.
func (s *Server) Endpoints() []Endpoint {
	out := make([]Endpoint, 0, len(s.names))
	for _, n := range s.names {
		v := s.vendor[n].vendor
		out = append(out, Endpoint{Vendor: n, Paths: v.Prefixes()})
	}
	return out
}

// AdminPath is the control API's prefix, "" when it is off.
func (s *Server) AdminPath() string {
	if s.cfg.Admin.Disabled {
		return ""
	}
	return admin.Prefix
}
