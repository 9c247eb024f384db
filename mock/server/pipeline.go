package server

import (
	"time"

	"github.com/labstack/echo/v4"
)

// The request pipeline. Every request Echo routes passes these steps, in
// this order; each is a plain function of the request's exchange (see
// Exchange), so the order is written here once and adding a concern is
// adding a call below.
//
//	outerSteps (every request):
//	  1. exchange   give the request its typed Exchange
//	  2. recover    a panic below becomes the vendor's 500
//	  3. render     the one place an error becomes a response (handleError)
//	     finish     strict check, then journal, of the written answer (finishExchange)
//	  4. persist    note a possible change for --state-file (noteChanges)
//	  5. log        one line per request (logRequest)
//	CORS layers (only when configured: --cors, --admin-cors)
//	innerSteps:
//	  6. read body  a vendor request's body, once (readBody)
//	  7. journal    tee the answer for the journal (journalRequest), around:
//	  8. validate   route, limit, normalise, decode, kin-openapi (validateRequest)
//	  9. control    overrides, Prefer, faults (control)
//	 10. dispatch   the generated handler, which calls the vendor
//	 11. strict     capture the answer, checked by finish (validateRequest, strict mode)
//
// Echo applies middleware per request, so the steps are grouped into two
// middlewares instead of one each: each middleware costs an allocation
// per request.

// outerSteps wraps everything, the CORS layers included.
func (s *Server) outerSteps(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		xc := &exchangeContext{Context: c}
		start := time.Now()
		if s.clock.Shared() && !isAdminPath(c.Request().URL.Path) {
			// A vendor request reads the shared control data once
			// (clock.Controlled.WithMemo); the control API reads it afresh.
			req := c.Request()
			c.SetRequest(req.WithContext(s.clock.WithMemo(req.Context())))
		}
		if err := s.recoverPanics(xc, next); err != nil {
			s.handleError(err, xc)
		}
		s.finishExchange(xc)
		s.noteChanges(xc)
		s.logRequest(xc, start)
		return nil
	}
}

// finishExchange runs what the inner steps leave for after the render
// step, which has written the answer: the strict check (whose refusal the
// render step writes instead) and the journal entry, which records the
// answer as sent.
func (s *Server) finishExchange(c echo.Context) {
	ex := ExchangeOf(c)
	if sc := ex.strict; sc != nil {
		ex.strict = nil
		if err := s.checkStrict(c, sc); err != nil {
			s.handleError(err, c)
		}
	}
	if ex.journal != nil {
		ex.journal.record(nil)
	}
}

// innerSteps runs once a request is past the CORS layers.
func (s *Server) innerSteps(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		s.readBody(c)
		return s.journalRequest(c, next)
	}
}
