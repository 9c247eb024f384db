package pingone_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/idpmock/idpmock/mock/pingone"
)

// PingOne keeps a user's 10 newest sessions. Concurrent creates for one
// user all succeed, a listing never shows more than 10 while they run, and
// 10 remain.
func TestUserCapUnderConcurrency(t *testing.T) {
	srv := start(t, pingone.Options{}, t0)
	list := "/v1/environments/" + envID + "/users/" + userID + "/sessions"
	send := func(method, path, body string) (int, []byte, error) {
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Bearer test-access-token")
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := srv.AnonymousClient().Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		return resp.StatusCode, raw, err
	}
	listed := func() (int, error) {
		status, raw, err := send(http.MethodGet, list, "")
		if err != nil || status != http.StatusOK {
			return 0, fmt.Errorf("list: %d %s %v", status, raw, err)
		}
		var out struct {
			Embedded struct {
				Sessions []json.RawMessage `json:"sessions"`
			} `json:"_embedded"`
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			return 0, err
		}
		return len(out.Embedded.Sessions), nil
	}

	const writers, each = 6, 6
	errs := make(chan error, writers*each+1000)
	done := make(chan struct{})
	var wg, readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if n, err := listed(); err != nil || n > 10 {
				errs <- fmt.Errorf("a listing shows %d sessions (%v), at most 10", n, err)
				return
			}
		}
	}()
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if status, raw, err := send(http.MethodPost, sessionsPath, sessionJSON(t0, "", "")); err != nil || status != http.StatusCreated {
					errs <- fmt.Errorf("create: %d %s %v", status, raw, err)
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, err := listed(); err != nil || n != 10 {
		t.Errorf("after the creates the user has %d sessions (%v), want 10", n, err)
	}
}

// A state document with more than 10 sessions of one user is refused,
// naming the cap, and nothing changes; 10 are taken.
func TestUserCapInStateDocument(t *testing.T) {
	srv := start(t, pingone.Options{}, t0)
	r := call(t, srv, http.MethodGet, "/__mock/state", "")
	mustStatus(t, r, http.StatusOK)
	var doc map[string]any
	if err := json.Unmarshal(r.Raw, &doc); err != nil {
		t.Fatal(err)
	}
	delete(doc, "clock")
	p1 := doc["vendors"].(map[string]any)["pingone"].(map[string]any)
	seeded := p1["sessions"].([]any)[0].(map[string]any)
	withSessions := func(n int) string {
		var list []any
		for i := range n {
			s := map[string]any{}
			for k, v := range seeded {
				s[k] = v
			}
			s["id"] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
			list = append(list, s)
		}
		p1["sessions"] = list
		raw, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	for _, tc := range []struct {
		n, status int
		want      string
	}{
		{11, http.StatusBadRequest, "more than 10 sessions of user " + userID},
		{10, http.StatusOK, ""},
	} {
		r := call(t, srv, http.MethodPut, "/__mock/state", withSessions(tc.n))
		if r.Status/100 != tc.status/100 || !strings.Contains(string(r.Raw), tc.want) {
			t.Errorf("%d sessions of one user: %d %s, want %d naming %q", tc.n, r.Status, r.Raw, tc.status, tc.want)
		}
		if tc.status == http.StatusBadRequest {
			mustStatus(t, call(t, srv, http.MethodGet, sessionsPath+"/"+seededSessionID, ""), http.StatusOK) // nothing changed
		}
	}
	errorBody(t, call(t, srv, http.MethodGet, sessionsPath+"/"+seededSessionID, ""), http.StatusNotFound, "NOT_FOUND")
}
