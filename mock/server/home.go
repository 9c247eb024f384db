package server

import (
	"html"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// homeDoc is what GET / answers: where everything is. Paths are relative to
// the mock's own origin, so they work behind any host or port.
type homeDoc struct {
	Name    string       `json:"name"`
	Docs    string       `json:"docs"`
	Vendors []homeVendor `json:"vendors"`
	Admin   *homeAdmin   `json:"admin,omitempty"`
	Health  string       `json:"health"`
}

type homeVendor struct {
	Name  string   `json:"name"`
	Paths []string `json:"paths"`
	Spec  string   `json:"spec"`
}

type homeAdmin struct {
	API       string `json:"api"`
	Spec      string `json:"spec"`
	Dashboard string `json:"dashboard"`
}

func (s *Server) homeDoc() homeDoc {
	d := homeDoc{Name: "idpmock", Docs: "https://github.com/idpmock/idpmock#readme", Health: "/healthz"}
	for _, ep := range s.Endpoints() {
		d.Vendors = append(d.Vendors, homeVendor{Name: ep.Vendor, Paths: ep.Paths, Spec: "/__mock/openapi/" + ep.Vendor})
	}
	if p := s.AdminPath(); p != "" {
		d.Admin = &homeAdmin{API: p, Spec: "https://github.com/idpmock/idpmock/blob/main/openapi/admin/admin.yaml", Dashboard: p + "ui/"}
	}
	return d
}

// homePage renders d as HTML. It is written out rather than executed as an
// html/template: template execution calls methods through reflection, which
// makes the linker keep every exported method of every type in the binary
// (the Redis client's command builders alone added 10 MB to the image).
func homePage(d homeDoc) string {
	e := html.EscapeString
	var b strings.Builder
	b.WriteString(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>idpmock</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44em;margin:2em auto;padding:0 1em}code{background:#eee;padding:0 .2em}</style>
</head><body>
<h1>idpmock</h1>
<p>An offline mock of identity providers' session APIs. Send your client's requests here with any bearer token.</p>
<h2>Vendors</h2>
<ul>`)
	for _, v := range d.Vendors {
		b.WriteString("\n<li><b>" + e(v.Name) + "</b>: ")
		for i, p := range v.Paths {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("<code>" + e(p) + "</code>")
		}
		b.WriteString(`; spec <a href="` + e(v.Spec) + `">` + e(v.Spec) + `</a> (YAML, or JSON with <code>Accept: application/json</code>)</li>`)
	}
	b.WriteString("\n</ul>\n")
	if a := d.Admin; a != nil {
		b.WriteString(`<h2>Control</h2>
<ul>
<li>Dashboard: <a href="` + e(a.Dashboard) + `">` + e(a.Dashboard) + `</a></li>
<li>Control API (overrides, clock, journal, state): <code>` + e(a.API) + `</code>, described in <a href="` + e(a.Spec) + `">admin.yaml</a></li>
</ul>`)
	}
	b.WriteString(`
<p><a href="` + e(d.Health) + `">` + e(d.Health) + `</a> · <a href="` + e(d.Docs) + `">documentation</a></p>
</body></html>
`)
	return b.String()
}

// home answers GET /: a small HTML page for a browser, the same links as
// JSON for anything that asks for JSON.
func (s *Server) home(c echo.Context) error {
	d := s.homeDoc()
	if prefersJSON(c.Request().Header.Get("Accept")) {
		return c.JSON(http.StatusOK, d)
	}
	return c.HTML(http.StatusOK, homePage(d))
}

// prefersJSON: JSON when asked for and HTML is not (curl's */* gets HTML,
// which is what a person typing the URL expects to read).
func prefersJSON(accept string) bool {
	return strings.Contains(accept, "json") && !strings.Contains(accept, "text/html")
}
