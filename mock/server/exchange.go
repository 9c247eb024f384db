package server

import (
	"net/http"

	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/idpmock/idpmock/mock/problem"
	"github.com/idpmock/idpmock/mock/validate"
)

// Exchange is what the pipeline learns about one request as it goes:
// one typed value instead of keys in Echo's untyped store. The journal,
// the log and the vendors' error writers read it. It lives in the Echo
// context the pipeline hands down (see beginExchange), so it costs one
// allocation per request and no map.
type Exchange struct {
	// Route is the spec operation the request matched; nil for unknown
	// paths and methods, admin and health calls.
	Route *routers.Route
	// Operation is Route's operationId as the spec spells it
	// ("SessionService_SetSession"), the one canonical name.
	Operation string
	// Problem is why the request is invalid, nil when it is valid.
	Problem *problem.Problem
	// Override is the id of the override that answered, if any.
	Override string
	// Prefer is the raw Prefer header the request carried, if honoured.
	Prefer string
	// Fault is how the exchange ended without an answer: "drop" or
	// faultClientGone.
	Fault string
	// Body is the request body, read once by readBody (up to the body
	// limit) for every vendor request; BodyErr is that read's error, a
	// body over the limit. Bodies of other requests are not read here.
	Body     []byte
	BodyErr  error
	bodyRead bool
	// journal is the request's journal entry, to record at once before a
	// deliberate drop closes the connection; nil without a journal.
	journal *journalRecord
	// strict is the strict step's capture of the answer, checked and
	// sent after the render step; nil outside strict mode.
	strict *strictCheck
}

// exchangeContext is the Echo context every handler below beginExchange
// receives: Echo's own, with the request's Exchange beside it.
type exchangeContext struct {
	echo.Context
	ex Exchange
}

// ExchangeOf returns the request's exchange. It never returns nil: a
// context the pipeline did not build (a test's, Echo's error handler's)
// gets an empty exchange that is dropped with it.
func ExchangeOf(c echo.Context) *Exchange {
	if x, ok := c.(*exchangeContext); ok {
		return &x.ex
	}
	return &Exchange{}
}

// readBody reads a vendor request's body once, before the journal and
// validation, which then share the bytes (validate.Buffered) instead of
// each reading and re-wrapping the stream. A body whose declared length is
// over the limit is left unread: validation refuses it with a 413 at once.
func (s *Server) readBody(c echo.Context) {
	req := c.Request()
	if req.Body == nil || req.Body == http.NoBody || req.ContentLength > s.cfg.BodyLimit || s.owner(req.URL.Path) == nil {
		return
	}
	buf := validate.ReadBody(c.Response(), req, s.cfg.BodyLimit)
	ex := ExchangeOf(c)
	ex.Body, ex.BodyErr, ex.bodyRead = buf.Bytes, buf.Err, true
}
