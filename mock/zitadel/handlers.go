package zitadel

import (
	"context"

	gen "github.com/idpmock/idpmock/gen/zitadel"
)

// The generated strict interface: the REST face, and through it every RPC
// face (rpc.go transcodes gRPC, gRPC-Web and Connect calls into these).

func createInput(b *gen.CreateSessionRequest) input {
	in := input{message: "CreateSessionRequest"}
	if b != nil {
		in.checks, in.challenges, in.userAgent, in.lifetime = b.Checks, b.Challenges, b.UserAgent, b.Lifetime
		if b.Metadata != nil {
			in.metadata = *b.Metadata
		}
	}
	return in
}

func restErr[T any](e *zerr, wrap func(gen.Status, int) T) T {
	st, body := e.restBody()
	return wrap(body, st)
}

// REST (grpc-gateway)

func (v *Vendor) SessionServiceCreateSession(ctx context.Context, req gen.SessionServiceCreateSessionRequestObject) (gen.SessionServiceCreateSessionResponseObject, error) {
	out, e := v.svc.create(ctx, createInput(req.Body))
	if e != nil {
		return restErr(e, func(b gen.Status, st int) gen.SessionServiceCreateSessionResponseObject {
			return gen.SessionServiceCreateSessiondefaultJSONResponse{Body: b, StatusCode: st}
		}), nil
	}
	return gen.SessionServiceCreateSession201JSONResponse(*out), nil
}

func (v *Vendor) SessionServiceSetSession(ctx context.Context, req gen.SessionServiceSetSessionRequestObject) (gen.SessionServiceSetSessionResponseObject, error) {
	in := input{message: "SetSessionRequest"}
	if b := req.Body; b != nil {
		in.checks, in.challenges, in.lifetime, in.token = b.Checks, b.Challenges, b.Lifetime, deref(b.SessionToken)
		if b.Metadata != nil {
			in.metadata = *b.Metadata
		}
	}
	out, e := v.svc.set(ctx, req.SessionId, in)
	if e != nil {
		return restErr(e, func(b gen.Status, st int) gen.SessionServiceSetSessionResponseObject {
			return gen.SessionServiceSetSessiondefaultJSONResponse{Body: b, StatusCode: st}
		}), nil
	}
	return gen.SessionServiceSetSession200JSONResponse(*out), nil
}

func (v *Vendor) SessionServiceGetSession(ctx context.Context, req gen.SessionServiceGetSessionRequestObject) (gen.SessionServiceGetSessionResponseObject, error) {
	out, e := v.svc.get(ctx, req.SessionId, req.Params.SessionToken)
	if e != nil {
		return restErr(e, func(b gen.Status, st int) gen.SessionServiceGetSessionResponseObject {
			return gen.SessionServiceGetSessiondefaultJSONResponse{Body: b, StatusCode: st}
		}), nil
	}
	return gen.SessionServiceGetSession200JSONResponse(*out), nil
}

func (v *Vendor) SessionServiceDeleteSession(ctx context.Context, req gen.SessionServiceDeleteSessionRequestObject) (gen.SessionServiceDeleteSessionResponseObject, error) {
	var token *string
	if req.Body != nil {
		token = req.Body.SessionToken
	}
	out, e := v.svc.remove(ctx, req.SessionId, token)
	if e != nil {
		return restErr(e, func(b gen.Status, st int) gen.SessionServiceDeleteSessionResponseObject {
			return gen.SessionServiceDeleteSessiondefaultJSONResponse{Body: b, StatusCode: st}
		}), nil
	}
	return gen.SessionServiceDeleteSession200JSONResponse(*out), nil
}

func (v *Vendor) SessionServiceListSessions(ctx context.Context, req gen.SessionServiceListSessionsRequestObject) (gen.SessionServiceListSessionsResponseObject, error) {
	out, e := v.svc.list(ctx, req.Body)
	if e != nil {
		return restErr(e, func(b gen.Status, st int) gen.SessionServiceListSessionsResponseObject {
			return gen.SessionServiceListSessionsdefaultJSONResponse{Body: b, StatusCode: st}
		}), nil
	}
	return gen.SessionServiceListSessions200JSONResponse(*out), nil
}
