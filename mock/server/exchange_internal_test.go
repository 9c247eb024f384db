package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/idpmock/idpmock/mock/problem"
)

// TestOuterSteps: handlers below outerSteps share one exchange that
// outlives each step; a context the pipeline did not build gets a fresh,
// unshared one; an error a step returns is rendered there, not left to
// Echo's error handler.
func TestOuterSteps(t *testing.T) {
	tests := []struct {
		name       string
		step       func(c echo.Context) error
		wantOp     string
		wantStatus int
	}{
		{"fields set by a step are seen after it", func(c echo.Context) error {
			ExchangeOf(c).Operation = "op_A"
			return c.NoContent(http.StatusNoContent)
		}, "op_A", http.StatusNoContent},
		{"an error is rendered by the pipeline", func(c echo.Context) error {
			ExchangeOf(c).Operation = "op_B"
			return problem.New(problem.NotFound, "nothing here")
		}, "op_B", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{cfg: Config{}}
			s.cfg.Defaults()
			e := echo.New()
			e.HTTPErrorHandler = func(err error, c echo.Context) { t.Errorf("Echo's error handler reached: %v", err) }
			var seen *Exchange
			h := s.outerSteps(func(c echo.Context) error {
				err := tt.step(c)
				seen = ExchangeOf(c)
				return err
			})
			rec := httptest.NewRecorder()
			c := e.NewContext(httptest.NewRequest(http.MethodGet, "/x", nil), rec)
			if err := h(c); err != nil {
				t.Fatalf("outerSteps returned %v", err)
			}
			if seen == nil || seen.Operation != tt.wantOp {
				t.Errorf("operation after the step = %+v, want %q", seen, tt.wantOp)
			}
			if rec.Code != tt.wantStatus {
				t.Errorf("status %d, want %d", rec.Code, tt.wantStatus)
			}
		})
	}
	// Outside the pipeline every call gets its own exchange.
	c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), httptest.NewRecorder())
	ExchangeOf(c).Fault = "drop"
	if f := ExchangeOf(c).Fault; f != "" {
		t.Errorf("exchange outside the pipeline kept %q", f)
	}
}

// TestReadBody: a vendor request's body is read once into the exchange and
// stays readable with the same bytes; a body over the limit keeps the
// read's error for the 413; bodies whose declared length is over the limit,
// and bodies of paths no vendor owns, are left for later steps.
func TestReadBody(t *testing.T) {
	const limit = 8
	tests := []struct {
		name     string
		path     string
		body     string
		length   int64 // -1: unknown (chunked)
		wantRead bool
		wantErr  bool
	}{
		{"vendor body", "/v/x", `{"a":1}`, 7, true, false},
		{"unknown length", "/v/x", `{"a":1}`, -1, true, false},
		{"over the limit while read", "/v/x", `{"a":12345}`, -1, true, true},
		{"declared over the limit", "/v/x", `{"a":12345}`, 11, false, false},
		{"path no vendor owns", "/other", `{"a":1}`, 7, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{cfg: Config{BodyLimit: limit}, owners: []ownerPrefix{{prefix: "/v/", m: &mounted{}}}}
			req := httptest.NewRequest(http.MethodPost, tt.path, strings.NewReader(tt.body))
			req.ContentLength = tt.length
			c := &exchangeContext{Context: echo.New().NewContext(req, httptest.NewRecorder())}
			s.readBody(c)
			after, _ := io.ReadAll(c.Request().Body)
			ex := ExchangeOf(c)
			if ex.bodyRead != tt.wantRead || (ex.BodyErr != nil) != tt.wantErr {
				t.Fatalf("read %v err %v, want read %v err %v", ex.bodyRead, ex.BodyErr, tt.wantRead, tt.wantErr)
			}
			if tt.wantRead && !tt.wantErr && string(ex.Body) != tt.body {
				t.Errorf("exchange body %q, want %q", ex.Body, tt.body)
			}
			if !tt.wantErr && string(after) != tt.body {
				t.Errorf("next step read %q, want %q", after, tt.body)
			}
		})
	}
}
