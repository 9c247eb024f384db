package server

import "github.com/getkin/kin-openapi/openapi3"

// VendorSpec is the OpenAPI document vendor name is validated against
// (admin.SpecSource, for GET /__mock/openapi/{vendor}).
func (s *Server) VendorSpec(name string) (*openapi3.T, bool) {
	m, ok := s.vendor[name]
	if !ok {
		return nil, false
	}
	doc, err := m.vendor.Spec()
	return doc, err == nil && doc != nil
}
