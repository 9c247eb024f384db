package zitadel_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/idpmock/idpmock/mock/mocktest"
	"github.com/idpmock/idpmock/mock/zitadel"
)

// Login names are looked up through the users' index: case-insensitive
// unless the instance says loginNameCaseSensitive.
func TestLoginNameCase(t *testing.T) {
	for _, c := range []struct {
		sensitive bool
		loginName string
		status    int
	}{
		{false, "mini@mouse.com", http.StatusCreated},
		{false, "MINI@Mouse.COM", http.StatusCreated},
		{false, "Mini@Mouse-Inc.localhost", http.StatusCreated}, // a second login name
		{false, "nobody@mouse.com", http.StatusNotFound},
		{true, "mini@mouse.com", http.StatusCreated},
		{true, "mini@mouse-inc.localhost", http.StatusCreated},
		{true, "MINI@Mouse.COM", http.StatusNotFound},
	} {
		t.Run(fmt.Sprintf("sensitive=%v/%s", c.sensitive, c.loginName), func(t *testing.T) {
			dir := copyFixtures(t)
			file := filepath.Join(dir, "zitadel", "instance.json")
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, file, strings.Replace(string(b), `"loginNameCaseSensitive": false`, fmt.Sprintf(`"loginNameCaseSensitive": %v`, c.sensitive), 1))
			srv := mocktest.Start(t, mocktest.WithVendors(zitadel.New), mocktest.WithFixtures(os.DirFS(dir)))
			r := call(t, srv, http.MethodPost, "/v2/sessions", `{"checks":{"user":{"loginName":"`+c.loginName+`"}}}`)
			wantStatus(t, r, c.status)
			if c.status == http.StatusCreated {
				g := call(t, srv, http.MethodGet, "/v2/sessions/"+str(r.body, "sessionId"), "")
				if got := str(g.body, "session.factors.user.id"); got != miniID {
					t.Errorf("checked user %q, want %s", got, miniID)
				}
			}
		})
	}
}

// Concurrent SetSession calls on one session each change it; none is lost
// (each runs inside the store's atomic update) and every one is counted in
// the sequence (a metadata event and a token event each).
func TestConcurrentSetKeepsEveryChange(t *testing.T) {
	srv := start(t)
	id, _ := createMini(t, srv, "")
	before := call(t, srv, http.MethodGet, "/v2/sessions/"+id, "")
	seq := str(before.body, "session.sequence")
	const n = 16
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = call(t, srv, http.MethodPatch, "/v2/sessions/"+id, fmt.Sprintf(`{"metadata":{"k%d":"AQ=="}}`, i)).status
		}()
	}
	wg.Wait()
	for i, st := range statuses {
		if st != http.StatusOK {
			t.Errorf("set %d: status %d", i, st)
		}
	}
	g := call(t, srv, http.MethodGet, "/v2/sessions/"+id, "")
	for i := range n {
		if !has(g.body, fmt.Sprintf("session.metadata.k%d", i)) {
			t.Errorf("metadata k%d lost: %s", i, g.raw)
		}
	}
	var s0, s1 int
	fmt.Sscan(seq, &s0)
	fmt.Sscan(str(g.body, "session.sequence"), &s1)
	if s1 != s0+2*n {
		t.Errorf("sequence %d after %d sets from %d, want %d", s1, n, s0, s0+2*n)
	}
}

// An intent is consumed by exactly one session, however many check it at
// once: the checks run inside the intent's own update.
func TestIntentConsumedOnce(t *testing.T) {
	srv := start(t)
	const n = 8
	var wg sync.WaitGroup
	replies := make([]reply, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = call(t, srv, http.MethodPost, "/v2/sessions",
				`{"checks":{"user":{"userId":"`+miniID+`"},"idpIntent":{"idpIntentId":"280310400000000001","idpIntentToken":"intent-token-mini"}}}`)
		}()
	}
	wg.Wait()
	ok := 0
	for _, r := range replies {
		switch {
		case r.status == http.StatusCreated:
			ok++
		case r.status != http.StatusBadRequest || !strings.Contains(r.raw, "Intent has not succeeded"):
			t.Errorf("status %d: %s", r.status, r.raw)
		}
	}
	if ok != 1 {
		t.Errorf("%d sessions consumed the intent, want 1", ok)
	}
}
