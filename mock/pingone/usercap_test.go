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
