//go:build browser

package browsertest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// flags are every test's Chromium switches: headless, no sandbox (CI runs
// as root), and nothing that talks to Google or slows a fresh profile.
var flags = []string{
	"headless", "no-sandbox", "disable-gpu", "disable-background-networking",
	"disable-component-update", "disable-sync", "no-first-run", "disable-quic",
}

// Chromium is the path of a headless-capable Chromium; the test is skipped
// when there is none.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH (apt-get install -y chromium)")
	return ""
}

// Args is Chromium's command line for opening url with a fresh profile.
func Args(t testing.TB, url string) []string {
	out := make([]string, 0, len(flags)+2)
	for _, f := range flags {
		out = append(out, "--"+f)
	}
	return append(out, "--user-data-dir="+t.TempDir(), url)
}

// AllocatorOptions are the same flags for chromedp, with a fresh profile
// and the given window size.
func AllocatorOptions(t testing.TB, width, height int) []chromedp.ExecAllocatorOption {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(Chromium(t)))
	for _, f := range flags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	return append(opts, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(width, height))
}

// Site serves a test page at / and takes the JSON the page POSTs to
// /report as its result.
type Site[T any] struct {
	URL    string
	report chan T
}

// NewSite serves page() (called per request, so it may name a server
// started after the site) until the test ends.
func NewSite[T any](t testing.TB, page func() string) *Site[T] {
	t.Helper()
	s := &Site[T]{report: make(chan T, 1)}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, page())
		case "/report":
			raw, _ := io.ReadAll(r.Body)
			var v T
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Errorf("report %s: %v", raw, err)
			}
			select {
			case s.report <- v:
			default:
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(hs.Close)
	s.URL = hs.URL
	return s
}

// Visit opens the site in headless Chromium and returns the page's report;
// the test fails after 60 s without one.
func (s *Site[T]) Visit(t testing.TB) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, Chromium(t), Args(t, s.URL+"/")...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	select {
	case v := <-s.report:
		return v
	case <-ctx.Done():
		t.Fatalf("no report from the page; chromium said:\n%s", stderr.String())
	}
	var zero T
	return zero
}
