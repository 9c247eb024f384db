package zitadel

import (
	"context"

	gen "github.com/idpmock/idpmock/gen/zitadel"
)

// The generated strict interface, twice: REST methods answer with the
// gateway's status and error body, Connect methods with 200 and Connect
// errors. Both unwrap into the same service calls.

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

func connectErr[T any](e *zerr, wrap func(gen.ConnectError, int) T) T {
	st, body := e.connectBody()
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

// Connect (JSON codec)

func (v *Vendor) ConnectCreateSession(ctx context.Context, req gen.ConnectCreateSessionRequestObject) (gen.ConnectCreateSessionResponseObject, error) {
	out, e := v.svc.create(ctx, createInput(req.Body))
	if e != nil {
		return connectErr(e, func(b gen.ConnectError, st int) gen.ConnectCreateSessionResponseObject {
			return gen.ConnectCreateSessiondefaultJSONResponse{Body: b, StatusCode: st}
		}), nil
	}
	return gen.ConnectCreateSession200JSONResponse(*out), nil
}

func (v *Vendor) ConnectSetSession(ctx context.Context, req gen.ConnectSetSessionRequestObject) (gen.ConnectSetSessionResponseObject, error) {
	in := input{message: "SetSessionRequest"}
	var id string
	if b := req.Body; b != nil {
		id = b.SessionId
		in.checks, in.challenges, in.lifetime, in.token = b.Checks, b.Challenges, b.Lifetime, deref(b.SessionToken)
		if b.Metadata != nil {
			in.metadata = *b.Metadata
		}
	}
	out, e := v.svc.set(ctx, id, in)
	if e != nil {
		return connectErr(e, func(b gen.ConnectError, st int) gen.ConnectSetSessionResponseObject {
			return gen.ConnectSetSessiondefaultJSONResponse{Body: b, StatusCode: st}
		}), nil
	}
	return gen.ConnectSetSession200JSONResponse(*out), nil
}

func (v *Vendor) ConnectGetSession(ctx context.Context, req gen.ConnectGetSessionRequestObject) (gen.ConnectGetSessionResponseObject, error) {
	var id string
	var token *string
	if req.Body != nil {
		id, token = req.Body.SessionId, req.Body.SessionToken
	}
	out, e := v.svc.get(ctx, id, token)
	if e != nil {
		return connectErr(e, func(b gen.ConnectError, st int) gen.ConnectGetSessionResponseObject {
			return gen.ConnectGetSessiondefaultJSONResponse{Body: b, StatusCode: st}
		}), nil
	}
	return gen.ConnectGetSession200JSONResponse(*out), nil
}

func (v *Vendor) ConnectDeleteSession(ctx context.Context, req gen.ConnectDeleteSessionRequestObject) (gen.ConnectDeleteSessionResponseObject, error) {
	var id string
	var token *string
	if req.Body != nil {
		id, token = req.Body.SessionId, req.Body.SessionToken
	}
	out, e := v.svc.remove(ctx, id, token)
	if e != nil {
		return connectErr(e, func(b gen.ConnectError, st int) gen.ConnectDeleteSessionResponseObject {
			return gen.ConnectDeleteSessiondefaultJSONResponse{Body: b, StatusCode: st}
		}), nil
	}
	return gen.ConnectDeleteSession200JSONResponse(*out), nil
}

func (v *Vendor) ConnectListSessions(ctx context.Context, req gen.ConnectListSessionsRequestObject) (gen.ConnectListSessionsResponseObject, error) {
	out, e := v.svc.list(ctx, req.Body)
	if e != nil {
		return connectErr(e, func(b gen.ConnectError, st int) gen.ConnectListSessionsResponseObject {
			return gen.ConnectListSessionsdefaultJSONResponse{Body: b, StatusCode: st}
		}), nil
	}
	return gen.ConnectListSessions200JSONResponse(*out), nil
}
