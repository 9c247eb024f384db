package server

import (
	"context"
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/idpmock/idpmock/mock/problem"
)

// faultClientGone marks, in the journal, a request whose client left
// (closed or half-closed its connection, or canceled) before the answer:
// nobody reads an answer, so none is written and nothing is logged as an
// error.
const faultClientGone = "client-gone"

// clientGone reports whether err only says that the request's client went
// away, and if so marks the request for the journal and logs it at debug.
func (s *Server) clientGone(err error, c echo.Context) bool {
	ctx := c.Request().Context()
	if ctx.Err() == nil {
		return false
	}
	// A vendor may wrap the context's error in its own internal error.
	if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) && !serverError(err) {
		return false
	}
	ExchangeOf(c).Fault = faultClientGone
	s.cfg.Log.Debug("client gone before the answer", "path", c.Request().URL.Path, "err", err)
	return true
}

// goneBeforeAnswer reports whether the request's client left before its
// answer: marked so already, or a server error (status, 0 for none yet)
// while its context is done, which a vendor that writes its own errors
// makes of the canceled context. It marks the request for the journal.
func (s *Server) goneBeforeAnswer(c echo.Context, status int) bool {
	if ExchangeOf(c).Fault == faultClientGone {
		return true
	}
	if c.Request().Context().Err() == nil || (status != 0 && status < 500) {
		return false
	}
	ExchangeOf(c).Fault = faultClientGone
	return true
}

// serverError reports whether err answers with a 5xx: a vendor's own
// error by its status, anything else by its problem kind.
func serverError(err error) bool {
	var ve VendorError
	if errors.As(err, &ve) {
		return ve.HTTPStatus() >= 500
	}
	return toProblem(err).Kind == problem.Internal
}
