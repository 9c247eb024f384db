// Package zitadelpb holds the Go code generated from idpmock's proto
// definition of ZITADEL's Session Service v2 (openapi/zitadel/proto):
// messages (protoc-gen-go) and Connect handlers and clients
// (protoc-gen-connect-go). Do not edit; run `go generate ./gen/zitadelpb`.
package zitadelpb

//go:generate go run ../../mock/internal/protogen -I ../../openapi/zitadel/proto -out . -plugin go -plugin connect-go zitadel/message.proto zitadel/object.proto zitadel/object/v2/object.proto zitadel/session/v2/challenge.proto zitadel/session/v2/session.proto zitadel/session/v2/session_service.proto
