package pingone

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/idpmock/idpmock/mock/server"
)

// TestLink: links read as the concatenation of uuid.String they replace.
func TestLink(t *testing.T) {
	for _, id := range []uuid.UUID{uuid.Nil, uuid.MustParse("f3a8c6b1-0e2d-4c7f-9a55-1b2c3d4e5f60"), uuid.New()} {
		env := uuid.New()
		want := "https://x/v1/environments/" + env.String() + "/users/" + id.String() + "/sessions/" + env.String()
		if got := link("https://x/v1", "/environments/", env, segID{"/users/", id}, segID{"/sessions/", env}); got != want {
			t.Errorf("link = %q, want %q", got, want)
		}
		if got := link("", "/u/", id); got != "/u/"+id.String() {
			t.Errorf("link = %q, want %q", got, "/u/"+id.String())
		}
	}
	env, id := uuid.New(), uuid.New()
	if n := testing.AllocsPerRun(100, func() { link("https://x", "/environments/", env, segID{"/sessions/", id}) }); n != 1 {
		t.Errorf("link allocates %.0f times, want 1", n)
	}
}

// TestLatest: the latest sign-on wins; on a tie the first name in sorted
// order does, whatever the map's order.
func TestLatest(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		with map[string]time.Time
		want time.Time
		ok   bool
	}{
		{"none", nil, time.Time{}, false},
		{"newest", map[string]time.Time{"pwd": t0, "otp": t0.Add(time.Minute), "fido": t0.Add(-time.Minute)}, t0.Add(time.Minute), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			so := &signOn{With: map[string]authenticatorSignOn{}}
			for n, at := range tt.with {
				so.With[n] = authenticatorSignOn{At: at}
			}
			got, ok := so.latest()
			if ok != tt.ok || !got.At.Equal(tt.want) {
				t.Errorf("latest = %v %v, want %v %v", got.At, ok, tt.want, tt.ok)
			}
		})
	}
	for range 20 { // map order varies between runs of the loop
		so := &signOn{With: map[string]authenticatorSignOn{}}
		for _, n := range []string{"pwd", "otp", "fido", "email"} {
			a := authenticatorSignOn{At: t0}
			a.Policy.Id = n
			so.With[n] = a
		}
		if got, _ := so.latest(); got.Policy.Id != "email" {
			t.Fatalf("tie went to %v, want email's", got.Policy.Id)
		}
	}
}

// TestErrorAnswers: PingOne's own failures are server.VendorErrors that
// answer with their status and body; a forced 400 without a spec example is
// PingOne's generic INVALID_REQUEST.
func TestErrorAnswers(t *testing.T) {
	tests := []struct {
		name       string
		write      func(c echo.Context) error
		wantStatus int
		wantCode   string
	}{
		{"not found", func(c echo.Context) error { return vendorError(t, errNotFound()).WriteAnswer(c) }, 404, "NOT_FOUND"},
		{"session cap", func(c echo.Context) error { return vendorError(t, errSessionCap(3)).WriteAnswer(c) }, 429, "REQUEST_LIMITED"},
		{"logout media type", func(c echo.Context) error {
			return vendorError(t, checkLogoutRequest(context.Background(), nil)).WriteAnswer(c)
		}, 415, "INVALID_REQUEST"},
		{"forced 400", func(c echo.Context) error { return (&Vendor{}).WriteForcedError(c, 400) }, 400, "INVALID_REQUEST"},
		{"forced 404", func(c echo.Context) error { return (&Vendor{}).WriteForcedError(c, 404) }, 404, "NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)
			if err := tt.write(c); err != nil {
				t.Fatal(err)
			}
			var body struct{ Code string }
			_ = json.Unmarshal(rec.Body.Bytes(), &body)
			if rec.Code != tt.wantStatus || body.Code != tt.wantCode {
				t.Errorf("%d %s, want %d %s: %s", rec.Code, body.Code, tt.wantStatus, tt.wantCode, rec.Body)
			}
			if rec.Header().Get(correlationHeader) == "" {
				t.Errorf("no %s header", correlationHeader)
			}
		})
	}
}

func vendorError(t *testing.T, err error) server.VendorError {
	t.Helper()
	ve, ok := err.(server.VendorError)
	if !ok {
		t.Fatalf("%T is not a server.VendorError", err)
	}
	return ve
}
