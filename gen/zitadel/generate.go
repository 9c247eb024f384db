// Package zitadel is generated from openapi/zitadel/session_service.yaml by
// oapi-codegen: models, the Echo strict server and the embedded spec. Do not
// edit; run `go generate ./gen/zitadel`.
package zitadel

//go:generate go tool oapi-codegen -config cfg.yaml ../../openapi/zitadel/session_service.yaml
