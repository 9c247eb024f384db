package server

import "github.com/labstack/echo/v4"

// ForcedErrors is implemented by vendors that word forced errors (an
// override or Prefer: code= with no body of its own) as the vendor would,
// whatever the status, instead of the server's generic fallback.
type ForcedErrors interface {
	// WriteForcedError answers status with the vendor's generic error body.
	WriteForcedError(c echo.Context, status int) error
	// FreshenError adapts a documented error example to this answer (a
	// PingOne error id is unique per response, not the example's).
	FreshenError(status int, body []byte) []byte
}
