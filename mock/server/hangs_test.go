package server_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/idpmock/idpmock/mock/internal/httptestx"
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
		res := httptestx.Send(t, srv.Client(), srv.URL, method, path, string(big))
		if res.Status != 413 || !strings.Contains(string(res.Raw), "67108864") {
			t.Errorf("%s %s with 64 MiB + 10 bytes: %d %s", method, path, res.Status, res.Raw)
		}
	}
}
