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

type rpcCall struct{ protocol, procedure string }

// WithProtocol tags ctx with the protocol the client spoke and, for an RPC,
// the procedure it called ("/zitadel.session.v2.SessionService/GetSession").
func WithProtocol(ctx context.Context, protocol, procedure string) context.Context {
	return context.WithValue(ctx, protocolKey{}, rpcCall{protocol, procedure})
}

// ProtocolOf is the protocol ctx was tagged with, ProtocolREST if none.
func ProtocolOf(ctx context.Context) string {
	if c, ok := ctx.Value(protocolKey{}).(rpcCall); ok && c.protocol != "" {
		return c.protocol
	}
	return ProtocolREST
}

// ProcedureOf is the RPC procedure ctx was tagged with, "" if none.
func ProcedureOf(ctx context.Context) string {
	c, _ := ctx.Value(protocolKey{}).(rpcCall)
	return c.procedure
}

// protocolOr is an entry's protocol; entries made without one are REST.
func protocolOr(p string) string {
	if p == "" {
		return ProtocolREST
	}
	return p
}
