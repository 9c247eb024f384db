package httptestx_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
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

// Exchange sends the request as built (here a body of unknown length) and
// reports a transport failure as an error instead of failing the test.
func TestExchange(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Length", strconv.FormatInt(r.ContentLength, 10))
		_, _ = io.Copy(w, r.Body)
	}))
	req, err := http.NewRequest(http.MethodPost, hs.URL, io.MultiReader(strings.NewReader("raw \x00 bytes")))
	if err != nil {
		t.Fatal(err)
	}
	r, err := httptestx.Exchange(hs.Client(), req)
	if err != nil || r.Status != http.StatusOK || string(r.Raw) != "raw \x00 bytes" || r.Header.Get("X-Length") != "-1" {
		t.Fatalf("got %d %q length %s, %v", r.Status, r.Raw, r.Header.Get("X-Length"), err)
	}
	hs.Close()
	req, _ = http.NewRequest(http.MethodGet, hs.URL, nil)
	if r, err := httptestx.Exchange(hs.Client(), req); err == nil {
		t.Fatalf("closed server answered %d", r.Status)
	}
}
