package server_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// TestAdminBodyTooLarge: an admin body over the 64 MiB bound is a 413 that
// says so, not a 400.
func TestAdminBodyTooLarge(t *testing.T) {
	srv := start(t)
	big := bytes.Repeat([]byte(" "), 64<<20+10)
	copy(big, `{"vendors":{}}`)
	for _, path := range []string{"/__mock/state", "/__mock/overrides"} {
		method := "PUT"
		if path == "/__mock/overrides" {
			method = "POST"
		}
		req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(big))
		req.Header.Set("Content-Type", "application/json")
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(res.Body)
		res.Body.Close()
		if res.StatusCode != 413 || !strings.Contains(b.String(), "67108864") {
			t.Errorf("%s %s with 64 MiB + 10 bytes: %d %s", method, path, res.StatusCode, b.String())
		}
	}
}
