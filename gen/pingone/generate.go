// Package pingone holds the Echo server, strict server, models and embedded spec generated from
// openapi/pingone/sessions.yaml. Do not edit; run `go generate ./gen/pingone`.
package pingone

//go:generate go tool oapi-codegen -config cfg.yaml ../../openapi/pingone/sessions.yaml
