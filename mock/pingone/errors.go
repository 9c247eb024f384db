package pingone

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	gen "github.com/idpmock/idpmock/gen/pingone"
	"github.com/idpmock/idpmock/mock/problem"
)

// PingOne's top-level error messages. NOT_FOUND, ACCESS_FAILED and
// INVALID_DATA are the strings PingOne sends; the others are not published,
// so they follow the same pattern.
const (
	msgNotFound        = "The request could not be completed. The requested resource was not found."
	msgAccessFailed    = "The request could not be completed. You do not have access to this resource."
	msgInvalidData     = "The request could not be completed. One or more validation errors were in the request."
	msgInvalidRequest  = "The request could not be completed. The request was malformed or invalid."
	msgMediaType       = "The request could not be completed. The Content-Type of the request is not supported."
	msgMethod          = "The request could not be completed. The request method is not supported for this resource."
	msgTooLarge        = "The request could not be completed. The request body is too large."
	msgRequestLimited  = "The request could not be completed. Too many requests were made."
	msgUnexpected      = "The request could not be completed. An unexpected error occurred."
	msgInvalidToken    = "The authorization token is either missing or invalid, or it has expired."
	targetCredentials  = "Authentication Credentials"
	retryAfterSeconds  = 1
	maxIdleMinutes     = 2147483647
	defaultIdleMinutes = 43200 // 30 days: PingOne's sign-on session idle timeout
)

// apiError is a failure decided by the vendor's handlers, already in
// PingOne's terms: PingOne's server.VendorError.
type apiError struct {
	status int
	body   gen.Error
}

func (e *apiError) HTTPStatus() int { return e.status }

// WriteAnswer writes the error as PingOne does (see writeError).
func (e *apiError) WriteAnswer(c echo.Context) error { return writeError(c, e.status, e.body) }

func (e *apiError) Error() string {
	return fmt.Sprintf("pingone %d %s: %s", e.status, e.body.Code, e.body.Message)
}

// fail builds the error a handler returns.
func fail(kind problem.Kind, code gen.ErrorCode, message string, details ...gen.ErrorDetail) error {
	return &apiError{status: (&problem.Problem{Kind: kind}).Status(), body: errorBody(code, message, details)}
}

func errNotFound() error {
	return fail(problem.NotFound, gen.NOTFOUND, msgNotFound)
}

func errForbidden() error {
	return fail(problem.Forbidden, gen.ACCESSFAILED, msgAccessFailed)
}

// errSessionCap is the mock's own limit on stored sessions per environment
// (--max-sessions), worded as PingOne words an exhausted quota.
func errSessionCap(limit int) error {
	q := int64(limit)
	return fail(problem.TooManyRequests, gen.REQUESTLIMITED, msgRequestLimited,
		detail(gen.QUOTAEXCEEDED, "sessions", fmt.Sprintf(
			"idpmock stores at most %d sessions per environment (--max-sessions); delete sessions or reset the mock (POST /__mock/reset)", limit),
			&gen.InnerError{QuotaLimit: &q}))
}

// errTotalCap is the mock's process-wide session limit
// (--max-total-sessions), worded as errSessionCap.
func errTotalCap(limit int) error {
	q := int64(limit)
	return fail(problem.TooManyRequests, gen.REQUESTLIMITED, msgRequestLimited,
		detail(gen.QUOTAEXCEEDED, "sessions", fmt.Sprintf(
			"idpmock stores at most %d sessions in total, all environments and vendors together (--max-total-sessions); delete sessions or reset the mock (POST /__mock/reset)", limit),
			&gen.InnerError{QuotaLimit: &q}))
}

// errInvalid is a 400 INVALID_DATA about one field.
func errInvalid(code gen.ErrorDetailCode, target, message string, inner *gen.InnerError) error {
	return fail(problem.Invalid, gen.INVALIDDATA, msgInvalidData, detail(code, target, message, inner))
}

func detail(code gen.ErrorDetailCode, target, message string, inner *gen.InnerError) gen.ErrorDetail {
	d := gen.ErrorDetail{Code: code, Message: message, InnerError: inner}
	if target != "" {
		d.Target = &target
	}
	return d
}

func errorBody(code gen.ErrorCode, message string, details []gen.ErrorDetail) gen.Error {
	b := gen.Error{Id: uuid.New(), Code: code, Message: message}
	if len(details) > 0 {
		b.Details = &details
	}
	return b
}

// WriteError renders p as PingOne's error body, always application/json
// (the PingOne SDK only decodes errors sent as plain JSON).
func (v *Vendor) WriteError(c echo.Context, p *problem.Problem) error {
	status, body := v.translate(p)
	return writeError(c, status, body)
}

// writeError answers with PingOne's error body and headers.
func writeError(c echo.Context, status int, body gen.Error) error {
	h := c.Response().Header()
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		h.Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	}
	if h.Get(correlationHeader) == "" {
		h.Set(correlationHeader, uuid.NewString())
	}
	return c.JSON(status, body)
}

// translate maps a problem to PingOne's status and body.
func (v *Vendor) translate(p *problem.Problem) (int, gen.Error) {
	switch p.Kind {
	case problem.Invalid:
		return invalid(p)
	case problem.Unauthenticated:
		return http.StatusUnauthorized, errorBody(gen.ACCESSFAILED, msgAccessFailed,
			[]gen.ErrorDetail{detail(gen.INVALIDTOKEN, targetCredentials, msgInvalidToken, nil)})
	case problem.Forbidden:
		return http.StatusForbidden, errorBody(gen.ACCESSFAILED, msgAccessFailed, nil)
	case problem.NotFound:
		return http.StatusNotFound, errorBody(gen.NOTFOUND, msgNotFound, nil)
	case problem.MethodNotAllowed:
		return http.StatusMethodNotAllowed, errorBody(gen.INVALIDREQUEST, msgMethod, nil)
	case problem.UnsupportedMediaType:
		return http.StatusUnsupportedMediaType, errorBody(gen.INVALIDREQUEST, msgMediaType,
			[]gen.ErrorDetail{detail(gen.INVALIDVALUE, "Content-Type", p.Message, nil)})
	case problem.TooLarge:
		return http.StatusRequestEntityTooLarge, errorBody(gen.INVALIDREQUEST, msgTooLarge,
			[]gen.ErrorDetail{detail(gen.SIZELIMITEXCEEDED, "body", p.Message, nil)})
	case problem.TooManyRequests:
		retry := int64(retryAfterSeconds)
		return http.StatusTooManyRequests, errorBody(gen.REQUESTLIMITED, msgRequestLimited,
			[]gen.ErrorDetail{detail(gen.LIMITEXCEEDED, "", p.Message, &gen.InnerError{RetryAfter: &retry})})
	case problem.Unavailable:
		return http.StatusServiceUnavailable, errorBody(gen.UNEXPECTEDERROR, msgUnexpected, nil)
	case problem.Internal:
		// Strict mode: the mock's own answer broke the spec. Say which field
		// broke which rule, so the failing test points at the cause.
		if len(p.Issues) > 0 {
			details := make([]gen.ErrorDetail, 0, len(p.Issues))
			for _, is := range p.Issues {
				details = append(details, detail(gen.INVALIDVALUE, is.Field, is.Message+" (rule "+is.Rule+")", nil))
			}
			return http.StatusInternalServerError, errorBody(gen.UNEXPECTEDERROR, p.Message, details)
		}
	}
	return http.StatusInternalServerError, errorBody(gen.UNEXPECTEDERROR, msgUnexpected, nil)
}

// invalid maps validation findings. An ID in the path (or a session-token
// cookie) that cannot be valid names no resource, so it is 404 like an
// unknown ID; malformed JSON is INVALID_REQUEST; everything else is
// INVALID_DATA with one detail per field, target naming the field.
func invalid(p *problem.Problem) (int, gen.Error) {
	var details []gen.ErrorDetail
	malformed := len(p.Issues) == 0
	for _, is := range p.Issues {
		switch is.In {
		case "path", "cookie":
			return http.StatusNotFound, errorBody(gen.NOTFOUND, msgNotFound, nil)
		case "request":
			malformed = true
		}
		if is.Rule == "json" {
			malformed = true
		}
		target := is.Field
		if target == "" && is.In == "body" {
			target = "body"
		}
		msg := is.Message
		if is.Field == "idleTimeoutInMinutes" && is.Rule == "oneOf" {
			msg = "idleTimeoutInMinutes must be an integer, or a string of digits"
		}
		details = append(details, detail(detailCode(is.Rule), target, msg, nil))
	}
	if malformed {
		if len(details) == 0 {
			details = []gen.ErrorDetail{detail(gen.INVALIDVALUE, "body", p.Message, nil)}
		}
		return http.StatusBadRequest, errorBody(gen.INVALIDREQUEST, msgInvalidRequest, details)
	}
	return http.StatusBadRequest, errorBody(gen.INVALIDDATA, msgInvalidData, details)
}

func detailCode(rule string) gen.ErrorDetailCode {
	switch rule {
	case "required":
		return gen.REQUIREDVALUE
	case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
		return gen.OUTOFRANGE
	case "maxLength", "maxItems", "maxProperties":
		return gen.SIZELIMITEXCEEDED
	case "minLength":
		return gen.EMPTYVALUE
	}
	return gen.INVALIDVALUE
}
