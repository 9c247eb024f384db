package journal

import "context"

// The protocols a client may speak; vendors that translate RPC calls into
// their REST routes (ZITADEL) tag the request's context so the entry says
// what the client really sent.
const (
	ProtocolREST    = "rest"
	ProtocolConnect = "connect"
	ProtocolGRPC    = "grpc"
	ProtocolGRPCWeb = "grpc-web"
)

type protocolKey struct{}

// WithProtocol tags ctx with the protocol the client spoke.
func WithProtocol(ctx context.Context, protocol string) context.Context {
	return context.WithValue(ctx, protocolKey{}, protocol)
}

// ProtocolOf is the protocol ctx was tagged with, ProtocolREST if none.
func ProtocolOf(ctx context.Context) string {
	if p, ok := ctx.Value(protocolKey{}).(string); ok && p != "" {
		return p
	}
	return ProtocolREST
}
