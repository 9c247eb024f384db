package server

import (
	"slices"
	"strings"

	"github.com/idpmock/idpmock/mock/admin"
)

// Endpoint is where one vendor answers: the first path segment of its
// operations (/v1/, /v2/, /zitadel.session.v2.SessionService/).
type Endpoint struct {
	Vendor string
	Paths  []string
}

// Endpoints lists each vendor's path prefixes, vendors sorted by name, for
// the start-up banner and the / page.
func (s *Server) Endpoints() []Endpoint {
	out := make([]Endpoint, 0, len(s.names))
	for _, n := range s.names {
		m := s.vendor[n]
		var paths []string
		for _, r := range m.validator.Operations() {
			p := m.vendor.BasePath() + r.Path
			if i := strings.Index(p[1:], "/"); i >= 0 {
				p = p[:i+2]
			}
			if !slices.Contains(paths, p) {
				paths = append(paths, p)
			}
		}
		slices.Sort(paths)
		out = append(out, Endpoint{Vendor: n, Paths: paths})
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
