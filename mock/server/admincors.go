package server

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
)

// adminCORS lets the listed browser origins call the control API: it
// answers their preflights and marks their answers readable. Other
// origins get no CORS headers (their preflight is refused with 403), and
// the admin guard still refuses them and checks the admin token.
func adminCORS(origins []string) echo.MiddlewareFunc {
	methods := strings.Join([]string{http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodPatch}, ",")
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			origin := req.Header.Get("Origin")
			if !isAdminPath(req.URL.Path) || origin == "" {
				return next(c)
			}
			h := c.Response().Header()
			h.Add("Vary", "Origin")
			allowed := slices.Contains(origins, origin)
			preflight := req.Method == http.MethodOptions && req.Header.Get("Access-Control-Request-Method") != ""
			if !allowed {
				if preflight {
					return c.NoContent(http.StatusForbidden)
				}
				return next(c)
			}
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true") // a listed origin only
			if !preflight {
				h.Set("Access-Control-Expose-Headers", "Content-Length, WWW-Authenticate")
				return next(c)
			}
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			h.Set("Access-Control-Allow-Methods", methods)
			if rh := req.Header.Get("Access-Control-Request-Headers"); rh != "" {
				h.Set("Access-Control-Allow-Headers", rh)
			}
			h.Set("Access-Control-Max-Age", "600")
			return c.NoContent(http.StatusNoContent)
		}
	}
}
