package server

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/idpmock/idpmock/mock/problem"
)

// TestBeginExchange: handlers below beginExchange share one exchange that
// outlives each step; a context the pipeline did not build gets a fresh,
// unshared one; an error a step returns is rendered there, not left to
// Echo's error handler.
func TestBeginExchange(t *testing.T) {
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
			h := s.beginExchange(func(c echo.Context) error {
				err := tt.step(c)
				seen = ExchangeOf(c)
				return err
			})
			rec := httptest.NewRecorder()
			c := e.NewContext(httptest.NewRequest(http.MethodGet, "/x", nil), rec)
			if err := h(c); err != nil {
				t.Fatalf("beginExchange returned %v", err)
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
