package mocktest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// TestRoundRobin: the proxy StartReplicas puts in front of the replicas
// sends request i to replica i mod n, keeps the client's Host, and counts.
func TestRoundRobin(t *testing.T) {
	var targets []*url.URL
	for _, name := range []string{"a", "b"} {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, name+" "+r.Host)
		}))
		t.Cleanup(s.Close)
		u, _ := url.Parse(s.URL)
		targets = append(targets, u)
	}
	rr := newRoundRobin(targets)
	front := httptest.NewServer(rr)
	t.Cleanup(front.Close)
	t.Cleanup(rr.close)
	host := front.Listener.Addr().String()
	for i, want := range []string{"a", "b", "a", "b", "a"} {
		resp, err := front.Client().Get(front.URL + "/x")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != want+" "+host {
			t.Errorf("request %d: %q, want %q", i, body, want+" "+host)
		}
	}
	if a, b := rr.hits[0].Load(), rr.hits[1].Load(); a != 3 || b != 2 {
		t.Errorf("hits %d, %d; want 3, 2", a, b)
	}
}
