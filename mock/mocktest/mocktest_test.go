package mocktest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/idpmock/idpmock/mock/mocktest"
)

// recordingT captures what Verify reports instead of failing the real test.
type recordingT struct {
	testing.TB
	errors []string
}

func (r *recordingT) Helper() {}
func (r *recordingT) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestClientAuthenticatesAndVerifyCountsAccepted(t *testing.T) {
	srv := mocktest.Start(t)
	post := func(c *http.Client, body string) int {
		t.Helper()
		resp, err := c.Post(srv.URL+"/v2/sessions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	const good = `{"checks":{"user":{"loginName":"mini@mouse.com"}}}`
	if got := post(srv.Client(), good); got != http.StatusCreated {
		t.Fatalf("Client(): create answered %d, want 201 (the default bearer)", got)
	}
	if got := post(srv.AnonymousClient(), good); got != http.StatusUnauthorized {
		t.Fatalf("AnonymousClient(): create answered %d, want 401", got)
	}
	if got := post(srv.Client(), `{"checks":{"user":{"loginName":""}}}`); got != http.StatusBadRequest {
		t.Fatalf("invalid body answered %d, want 400", got)
	}

	cases := []struct {
		name      string
		verify    func(testing.TB)
		wantFail  bool
		wantInMsg []string
	}{
		{"accepted once", func(tb testing.TB) { srv.Verify(tb, "SessionService_CreateSession", 1) }, false, nil},
		{"rejected ones are not counted", func(tb testing.TB) { srv.Verify(tb, "SessionService_CreateSession", 3) }, true,
			[]string{"want 3 accepted requests, got 1", "rejected:", "→ 401", "→ 400"}},
		{"VerifyAll counts every request", func(tb testing.TB) { srv.VerifyAll(tb, "SessionService_CreateSession", 3) }, false, nil},
		{"VerifyAll still fails on a wrong count", func(tb testing.TB) { srv.VerifyAll(tb, "SessionService_CreateSession", 2) }, true,
			[]string{"want 2 requests, got 3"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rt := &recordingT{TB: t}
			c.verify(rt)
			if failed := len(rt.errors) > 0; failed != c.wantFail {
				t.Fatalf("failed = %v, want %v: %q", failed, c.wantFail, rt.errors)
			}
			for _, w := range c.wantInMsg {
				if !strings.Contains(strings.Join(rt.errors, "\n"), w) {
					t.Errorf("message lacks %q:\n%s", w, strings.Join(rt.errors, "\n"))
				}
			}
		})
	}
}
