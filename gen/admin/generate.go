// Package admin holds the Echo server, strict server, models and embedded spec generated from
// openapi/admin/admin.yaml, the idpmock control API. Do not edit; run `go generate ./gen/admin`.
package admin

//go:generate go tool oapi-codegen -config cfg.yaml ../../openapi/admin/admin.yaml
