package validate

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestReadBody: the body is read once, then read again (Body, GetBody, a
// plain reader) with the same bytes; past the limit the reader ends with
// the limit's error, as the stream it replaces would.
func TestReadBody(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		length  int64
		limit   int64
		wantErr bool
	}{
		{"declared length", `{"a":1}`, 7, 100, false},
		{"unknown length", `{"a":1}`, -1, 100, false},
		{"empty", ``, 0, 100, false},
		{"over the limit", `{"a":1}`, -1, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
			req.ContentLength = tt.length
			buf := ReadBody(httptest.NewRecorder(), req, tt.limit)
			var mbe *http.MaxBytesError
			if got := errors.As(buf.Err, &mbe); got != tt.wantErr {
				t.Fatalf("err %v, want a MaxBytesError: %v", buf.Err, tt.wantErr)
			}
			if tt.wantErr {
				_, err := io.ReadAll(req.Body)
				if !errors.As(err, &mbe) {
					t.Errorf("reading the buffered body ended with %v, want the limit's error", err)
				}
				return
			}
			if got := string(Body(req)); got != tt.body {
				t.Errorf("Body %q, want %q", got, tt.body)
			}
			if got, _ := io.ReadAll(req.Body); string(got) != tt.body {
				t.Errorf("read %q, want %q", got, tt.body)
			}
			rc, _ := req.GetBody()
			if got, _ := io.ReadAll(rc); string(got) != tt.body {
				t.Errorf("GetBody read %q, want %q", got, tt.body)
			}
		})
	}
}
