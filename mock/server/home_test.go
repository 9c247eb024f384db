package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/idpmock/idpmock/mock/internal/httptestx"
	"github.com/idpmock/idpmock/mock/server"
)

func TestHomePage(t *testing.T) {
	srv := start(t)
	noAdmin := start(t, withConfig(func(c *server.Config) { c.Admin.Disabled = true }))
	cases := []struct {
		name, url, accept, wantType string
		want, notWant               []string
	}{
		{"browser gets HTML", srv.URL, "text/html,application/xhtml+xml,*/*;q=0.8", "text/html",
			[]string{`href="/__mock/openapi/fake"`, `href="/__mock/ui/"`, "/__mock/", "admin.yaml", "/fake/"}, nil},
		{"curl gets HTML", srv.URL, "*/*", "text/html", []string{"<h1>idpmock</h1>"}, nil},
		{"JSON on request", srv.URL, "application/json", "application/json",
			[]string{`"spec":"/__mock/openapi/fake"`, `"dashboard":"/__mock/ui/"`, `"api":"/__mock/"`}, nil},
		{"no admin links when the admin API is off", noAdmin.URL, "application/json", "application/json",
			[]string{`"name":"fake"`}, []string{"dashboard"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := httptestx.Send(t, http.DefaultClient, c.url, "GET", "/", "", "Accept", c.accept)
			body := resp.Raw
			if resp.Status != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), c.wantType) {
				t.Fatalf("%d %s: %s", resp.Status, resp.Header.Get("Content-Type"), body)
			}
			if c.wantType == "application/json" && !json.Valid(body) {
				t.Errorf("not JSON: %s", body)
			}
			for _, w := range c.want {
				if !strings.Contains(string(body), w) {
					t.Errorf("lacks %q:\n%s", w, body)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(string(body), w) {
					t.Errorf("has %q:\n%s", w, body)
				}
			}
		})
	}
	if n := srv.Journal().Len(); n != 0 {
		t.Errorf("the home page is journaled (%d entries) as if it were a vendor call", n)
	}
}
