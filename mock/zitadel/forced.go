package zitadel

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

func init() {
	// ZITADEL's translation (internal/static/i18n/en.yaml).
	english["Errors.Limits.Instance.Blocked"] = "Instance is blocked"
}

// forced words a status forced by an override or Prefer as ZITADEL's
// session service does: the error it sends with that status, with
// ZITADEL's id and message; statuses ZITADEL never sends for these calls
// get its internal error ("An internal error occurred"). A forced 400 is
// the session service's "Session has expired"; an override with a body
// sends any other error.
func forced(status int) *zerr {
	var e *zerr
	switch status {
	case http.StatusUnauthorized:
		e = newErr(codeUnauthenticated, "AUTH-7fs1e", "invalid auth header")
	case http.StatusForbidden:
		e = newErr(codePermissionDenied, "QUERY-dsfr3", "Errors.PermissionDenied")
	case http.StatusNotFound:
		e = newErr(codeNotFound, "QUERY-SFeaa", "Errors.Session.NotExisting")
	case http.StatusBadRequest:
		e = newErr(codeFailedPrecondition, "COMMAND-Hkl3d", "Errors.Session.Expired")
	case http.StatusTooManyRequests:
		e = newErr(codeResourceExhausted, "LIMITS-molsj", "Errors.Limits.Instance.Blocked")
	case http.StatusNotImplemented:
		e = plainErr(codeUnimplemented, "method not implemented")
	case http.StatusServiceUnavailable:
		e = plainErr(codeUnavailable, "service unavailable")
	case http.StatusGatewayTimeout:
		e = plainErr(codeDeadlineExceeded, "context deadline exceeded")
	default:
		// ZITADEL's internal errors carry the id of the failing call site;
		// a forced one has none.
		e = newErr(codeInternal, "", "Errors.Internal")
		if status < 500 {
			e.code = codeUnknown
		}
	}
	e.status = status
	return e
}

// WriteForcedError answers status in ZITADEL's error format for the face asked.
func (v *Vendor) WriteForcedError(c echo.Context, status int) error {
	return v.writeErr(c, forced(status))
}

// FreshenError keeps ZITADEL's documented examples as they are: they carry
// no per-response id.
func (v *Vendor) FreshenError(_ int, body []byte) []byte { return body }
