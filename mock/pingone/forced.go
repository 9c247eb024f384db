package pingone

import (
	"encoding/json"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	gen "github.com/idpmock/idpmock/gen/pingone"
	"github.com/idpmock/idpmock/mock/problem"
)

// forcedKinds are the statuses PingOne answers with a known body; the
// problem kind gives the same body the mock sends for a real failure.
var forcedKinds = map[int]problem.Kind{
	http.StatusBadRequest:            problem.Invalid,
	http.StatusUnauthorized:          problem.Unauthenticated,
	http.StatusForbidden:             problem.Forbidden,
	http.StatusNotFound:              problem.NotFound,
	http.StatusMethodNotAllowed:      problem.MethodNotAllowed,
	http.StatusUnsupportedMediaType:  problem.UnsupportedMediaType,
	http.StatusRequestEntityTooLarge: problem.TooLarge,
	http.StatusTooManyRequests:       problem.TooManyRequests,
	http.StatusServiceUnavailable:    problem.Unavailable,
}

// WriteForcedError answers status (from an override or Prefer) with
// PingOne's error body and a fresh id: the body PingOne sends for that
// status, else its generic INVALID_REQUEST (4xx) or UNEXPECTED_ERROR (5xx).
func (v *Vendor) WriteForcedError(c echo.Context, status int) error {
	if kind, ok := forcedKinds[status]; ok {
		if kind == problem.Invalid {
			return writeError(c, status, errorBody(gen.INVALIDREQUEST, msgInvalidRequest, nil))
		}
		return v.WriteError(c, &problem.Problem{Kind: kind})
	}
	body := errorBody(gen.UNEXPECTEDERROR, msgUnexpected, nil)
	if status < 500 {
		body = errorBody(gen.INVALIDREQUEST, msgInvalidRequest, nil)
	}
	return writeError(c, status, body)
}

// FreshenError gives a documented error example a new id: PingOne's error
// id names one response, so two answers never share one.
func (v *Vendor) FreshenError(_ int, body []byte) []byte {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return body
	}
	if _, ok := doc["id"]; !ok {
		return body
	}
	id, _ := json.Marshal(uuid.NewString())
	doc["id"] = id
	out, err := json.Marshal(doc)
	if err != nil {
		return body
	}
	return out
}
