// Package dashboard serves the browser dashboard at /__mock/ui/: plain
// HTML, CSS and JavaScript modules embedded in the binary (no build step, no
// CDN), talking to the mock only through the admin API, so everything it
// shows or does can also be scripted.
package dashboard

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/labstack/echo/v4"
)

// Path is where the dashboard is served.
const Path = "/__mock/ui/"

//go:embed ui
var files embed.FS

// csp keeps the page to its own origin: it loads nothing from elsewhere and
// talks only to the mock that served it.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Register mounts the dashboard on e. The files carry no data (the page
// asks for the admin token itself), so they are served without it.
func Register(e *echo.Echo) {
	sub, _ := fs.Sub(files, "ui")
	static := http.StripPrefix(Path, http.FileServer(http.FS(sub)))
	serve := func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		static.ServeHTTP(c.Response(), c.Request())
		return nil
	}
	e.GET(Path+"*", serve)
	e.HEAD(Path+"*", serve)
	e.GET(Path[:len(Path)-1], func(c echo.Context) error {
		return c.Redirect(http.StatusMovedPermanently, Path)
	})
}
