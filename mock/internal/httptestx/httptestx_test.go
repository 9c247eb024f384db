package httptestx_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/idpmock/idpmock/mock/internal/httptestx"
)

func TestGet(t *testing.T) {
	var doc any
	if err := json.Unmarshal([]byte(`{"a":{"b":[{"c":"x"},{"c":"y"}]},"n":3}`), &doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		want any
	}{
		{"a.b.1.c", "y"}, {"a.b.0.c", "x"}, {"n", 3.0}, {"a.b.2.c", nil}, {"a.b.01.c", nil},
		{"a.b.-1", nil}, {"a.b.x", nil}, {"a.missing.c", nil}, {"n.deeper", nil},
	} {
		if got := httptestx.Get(doc, c.path); got != c.want {
			t.Errorf("Get(%q) = %v, want %v", c.path, got, c.want)
		}
	}
	if got := httptestx.Str(doc, "n"); got != "" {
		t.Errorf("Str of a number = %q, want empty", got)
	}
}

// Later header pairs replace earlier ones; an empty value removes one.
func TestDoHeaders(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"auth": r.Header.Get("Authorization"), "ct": r.Header.Get("Content-Type"), "x": r.Header.Get("X")})
	}))
	defer hs.Close()
	for _, c := range []struct {
		name, body string
		hdr        []string
		auth, ct   string
		x          string
	}{
		{"defaults", "", []string{"Authorization", "Bearer a"}, "Bearer a", "", ""},
		{"replaced", `{}`, []string{"Authorization", "Bearer a", "Authorization", "Bearer b"}, "Bearer b", "application/json", ""},
		{"removed", `{}`, []string{"Authorization", "Bearer a", "Authorization", "", "Content-Type", "", "X", "1"}, "", "", "1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptestx.Do(t, hs.Client(), hs.URL, http.MethodPost, "/", c.body, c.hdr...)
			if r.Status != http.StatusOK || httptestx.Str(r.Body, "auth") != c.auth || httptestx.Str(r.Body, "ct") != c.ct || httptestx.Str(r.Body, "x") != c.x {
				t.Errorf("got %d %s", r.Status, r.Raw)
			}
		})
	}
}
