package server

import (
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/idpmock/idpmock/mock/problem"
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
	// journalNow records the request in the journal at once (before a
	// deliberate drop closes the connection); nil without a journal.
	journalNow func()
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

// beginExchange is the pipeline's outermost step: it gives the request its
// exchange, and renders whatever error the steps below return, so that no
// error reaches Echo's handler with a context that has lost the exchange.
func (s *Server) beginExchange(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		xc := &exchangeContext{Context: c}
		if err := next(xc); err != nil {
			s.handleError(err, xc)
		}
		return nil
	}
}
