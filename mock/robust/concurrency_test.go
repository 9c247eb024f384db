package robust_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/idpmock/idpmock/mock/mocktest"
	"github.com/idpmock/idpmock/mock/server"
)

const workers = 8

// perWorker is how many updates each worker makes on a shared session, and
// how many sessions it makes apart: 2,900 requests in all, or 1,200 under
// the race detector (about 10x slower), so `go test -race` stays quick.
var perWorker = map[bool]int{false: 40, true: 16}[raceEnabled]

// concurrent runs fn(w) for each worker at once and waits.
func concurrent(n int, fn func(w int)) {
	var wg sync.WaitGroup
	for w := range n {
		wg.Add(1)
		go func() { defer wg.Done(); fn(w) }()
	}
	wg.Wait()
}

func startFast(t *testing.T) *mocktest.Server {
	t.Helper()
	srv := mocktest.Start(t, mocktest.WithConfig(func(c *server.Config) { c.Strict, c.JournalSize = false, -1 }))
	srv.AnonymousClient().Transport.(*http.Transport).MaxIdleConnsPerHost = workers * 2
	return srv
}

// do sends a JSON request and decodes the answer; it may run on any
// goroutine (errors are reported with t.Errorf).
func do(t *testing.T, srv *mocktest.Server, method, path, body string, hdr map[string]string, into any) int {
	r := request{method: method, path: path, header: http.Header{}}
	if body != "" {
		r.body, r.ctype = []byte(body), "application/json"
	}
	for k, v := range hdr {
		r.header.Set(k, v)
	}
	a, err := trySend(srv.AnonymousClient(), srv.URL, r)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return 0
	}
	if a.status >= 500 {
		t.Errorf("%s %s: %d %s", method, path, a.status, a.body)
	}
	if into != nil && a.status < 300 {
		if err := json.Unmarshal(a.body, into); err != nil {
			t.Errorf("%s %s: %v: %s", method, path, err, a.body)
		}
	}
	return a.status
}

type pingSessionDoc struct {
	ID        string
	Locations []struct {
		RemoteIP string `json:"remoteIp"`
	}
}

func pingUpdate(user, ip string) string {
	return `{"activeAt":"` + nowStamp() + `","userAgent":"robust","user":{"id":"` + user + `"},` +
		`"lastSignOn":{"authenticators":["pwd"],"remoteIp":"` + ip + `","withAuthenticator":{"pwd":{"at":"2022-08-17T01:21:30.116Z",` +
		`"policy":{"id":"874d5c7d-5e1c-4e73-b2b5-dfe1453b02f5","type":"PINGONE"}}}}}`
}

// TestConcurrentPingOneUpdatesOfOneSession: every update of a shared
// session is applied exactly once, in one order that every answer agrees
// with; locations keep the newest five, newest last.
func TestConcurrentPingOneUpdatesOfOneSession(t *testing.T) {
	srv := startFast(t)
	path := "/v1/environments/" + pingEnv + "/sessions/" + pingSession
	var first pingSessionDoc
	do(t, srv, "GET", path, "", nil, &first)
	start := first.Locations[len(first.Locations)-1].RemoteIP

	var mu sync.Mutex
	pred := map[string]string{} // update's IP → the IP of the update before it
	windows := map[string][]string{}
	concurrent(workers, func(w int) {
		for i := range perWorker {
			ip := fmt.Sprintf("10.0.%d.%d", w, i)
			var s pingSessionDoc
			if st := do(t, srv, "PUT", path, pingUpdate(pingUser, ip), nil, &s); st != 200 {
				t.Errorf("update %s: %d", ip, st)
				continue
			}
			var win []string
			for _, l := range s.Locations {
				win = append(win, l.RemoteIP)
			}
			mu.Lock()
			windows[ip] = win
			if n := len(win); n >= 2 && win[n-1] == ip {
				pred[ip] = win[n-2]
			}
			mu.Unlock()
		}
	})
	n := workers * perWorker
	if len(pred) != n {
		t.Fatalf("%d of %d updates answered with themselves as the newest location", len(pred), n)
	}
	// The predecessors chain every update exactly once from the start.
	succ := map[string]string{}
	for ip, p := range pred {
		if other, dup := succ[p]; dup {
			t.Fatalf("updates %s and %s both follow %s: one was lost", ip, other, p)
		}
		succ[p] = ip
	}
	chain := []string{start}
	for cur := start; succ[cur] != ""; cur = succ[cur] {
		chain = append(chain, succ[cur])
	}
	if len(chain) != n+1 {
		t.Fatalf("the update order covers %d of %d updates", len(chain)-1, n)
	}
	for i, ip := range chain[1:] {
		win := windows[ip]
		if len(win) > 5 {
			t.Fatalf("update %s answered %d locations, want at most 5", ip, len(win))
		}
		for j := range win {
			if want := chain[i+1-len(win)+1+j]; win[j] != want {
				t.Fatalf("update %s: locations %v disagree with the order (position %d: %s, want %s)", ip, win, j, win[j], want)
			}
		}
	}
	var last pingSessionDoc
	do(t, srv, "GET", path, "", nil, &last)
	if len(last.Locations) != 5 || last.Locations[4].RemoteIP != chain[len(chain)-1] {
		t.Fatalf("final locations %+v, want the last 5 of the order ending %s", last.Locations, chain[len(chain)-1])
	}
}

// TestConcurrentPingOneSessionsApart: creates, updates and deletes of
// many sessions in many environments at once; nothing lost, nothing
// duplicated, nothing deleted twice.
func TestConcurrentPingOneSessionsApart(t *testing.T) {
	srv := startFast(t)
	each := perWorker / 2
	type made struct {
		env, user, id, token string
		deleted              bool
	}
	all := make([][]made, workers)
	concurrent(workers, func(w int) {
		env := uuid.NewString()
		for i := range each {
			m := made{env: env, user: uuid.NewString(), token: uuid.NewString()}
			var s pingSessionDoc
			body := `{"activeAt":"` + nowStamp() + `","userAgent":"robust","user":{"id":"` + m.user + `"},"token":"` + m.token + `"}`
			if st := do(t, srv, "POST", "/v1/environments/"+env+"/sessions", body, nil, &s); st != 201 {
				t.Errorf("create: %d", st)
				continue
			}
			m.id = s.ID
			base := "/v1/environments/" + env
			if st := do(t, srv, "PUT", base+"/sessions/"+m.id, pingUpdate(m.user, fmt.Sprintf("10.1.%d.%d", w, i)), nil, nil); st != 200 {
				t.Errorf("update: %d", st)
			}
			switch i % 4 {
			case 1:
				m.deleted = do(t, srv, "DELETE", base+"/users/"+m.user+"/sessions/"+m.id, "", nil, nil) == 204
			case 3:
				m.deleted = do(t, srv, "DELETE", base+"/sessions/me", "", map[string]string{"Cookie": "ST=" + m.token}, nil) == 204
			}
			all[w] = append(all[w], m)
		}
	})
	ids := map[string]bool{}
	for w, ms := range all {
		if len(ms) != each {
			t.Fatalf("worker %d made %d sessions, want %d", w, len(ms), each)
		}
		for i, m := range ms {
			if ids[m.id] {
				t.Fatalf("session id %s handed out twice", m.id)
			}
			ids[m.id] = true
			if wantDeleted := i%2 == 1; m.deleted != wantDeleted {
				t.Fatalf("session %d of worker %d: deleted %v, want %v", i, w, m.deleted, wantDeleted)
			}
			var s pingSessionDoc
			st := do(t, srv, "GET", "/v1/environments/"+m.env+"/sessions/"+m.id, "", nil, &s)
			switch {
			case m.deleted && st != 404:
				t.Errorf("deleted session %s: %d", m.id, st)
			case !m.deleted && (st != 200 || len(s.Locations) != 2):
				t.Errorf("session %s: %d with %d locations, want 200 with 2 (create, update)", m.id, st, len(s.Locations))
			}
		}
	}
}

type zitadelDetails struct {
	Details struct{ Sequence string }
}

// TestConcurrentZitadelSetsOfOneSession: metadata set concurrently over
// REST and Connect on one session all lands; every answer carries its own
// sequence, strictly increasing as each client sees it.
func TestConcurrentZitadelSetsOfOneSession(t *testing.T) {
	srv := startFast(t)
	var created struct{ SessionID, SessionToken string }
	do(t, srv, "POST", "/v2/sessions", `{"checks":{"user":{"loginName":"`+zitadelUser+`"}}}`, nil, &created)
	var mu sync.Mutex
	seen := map[uint64]string{}
	concurrent(workers, func(w int) {
		var prev uint64
		for i := range perWorker {
			key := fmt.Sprintf("w%d-%d", w, i)
			md := `{"` + key + `":"` + base64.StdEncoding.EncodeToString([]byte(key)) + `"}`
			var d zitadelDetails
			var st int
			if w%2 == 0 {
				st = do(t, srv, "PATCH", "/v2/sessions/"+created.SessionID, `{"metadata":`+md+`}`, nil, &d)
			} else {
				st = do(t, srv, "POST", "/zitadel.session.v2.SessionService/SetSession",
					`{"sessionId":"`+created.SessionID+`","metadata":`+md+`}`, map[string]string{"Connect-Protocol-Version": "1"}, &d)
			}
			if st != 200 {
				t.Errorf("set %s: %d", key, st)
				continue
			}
			seq, err := strconv.ParseUint(d.Details.Sequence, 10, 64)
			if err != nil || seq <= prev {
				t.Errorf("worker %d: sequence %q after %d", w, d.Details.Sequence, prev)
			}
			prev = seq
			mu.Lock()
			if other, dup := seen[seq]; dup {
				t.Errorf("sequence %d answered to %s and %s", seq, other, key)
			}
			seen[seq] = key
			mu.Unlock()
		}
	})
	var got struct {
		Session struct {
			Sequence string
			Metadata map[string]string
		}
	}
	do(t, srv, "GET", "/v2/sessions/"+created.SessionID, "", nil, &got)
	if len(got.Session.Metadata) != workers*perWorker {
		t.Fatalf("metadata holds %d keys, want %d", len(got.Session.Metadata), workers*perWorker)
	}
	for k, v := range got.Session.Metadata {
		if b, _ := base64.StdEncoding.DecodeString(v); string(b) != k {
			t.Fatalf("metadata %s = %q", k, b)
		}
	}
	var maxSeq uint64
	for s := range seen {
		maxSeq = max(maxSeq, s)
	}
	if final, _ := strconv.ParseUint(got.Session.Sequence, 10, 64); final != maxSeq {
		t.Fatalf("final sequence %d, want the highest answered, %d", final, maxSeq)
	}
}

// TestConcurrentZitadelSessionsApart: creates, sets and deletes of
// separate sessions at once, over both faces.
func TestConcurrentZitadelSessionsApart(t *testing.T) {
	srv := startFast(t)
	each := perWorker / 2
	type made struct {
		id, token string
		deleted   bool
	}
	connectHdr := map[string]string{"Connect-Protocol-Version": "1"}
	all := make([][]made, workers)
	concurrent(workers, func(w int) {
		for i := range each {
			var c struct{ SessionID, SessionToken string }
			body := `{"checks":{"user":{"loginName":"` + zitadelUser + `"}},"metadata":{"owner":"` + base64.StdEncoding.EncodeToString([]byte(strconv.Itoa(w))) + `"}}`
			if i%2 == 0 {
				do(t, srv, "POST", "/v2/sessions", body, nil, &c)
			} else {
				do(t, srv, "POST", "/zitadel.session.v2.SessionService/CreateSession", body, connectHdr, &c)
			}
			if c.SessionID == "" {
				t.Errorf("worker %d: create %d failed", w, i)
				continue
			}
			m := made{id: c.SessionID, token: c.SessionToken}
			var set struct{ SessionToken string }
			if st := do(t, srv, "PATCH", "/v2/sessions/"+m.id, `{"metadata":{"i":"`+base64.StdEncoding.EncodeToString([]byte(strconv.Itoa(i)))+`"}}`, nil, &set); st != 200 {
				t.Errorf("set: %d", st)
			}
			m.token = set.SessionToken // every change mints a new token
			if i%3 == 0 {
				m.deleted = do(t, srv, "DELETE", "/v2/sessions/"+m.id, `{"sessionToken":"`+m.token+`"}`, nil, nil) == 200
				if !m.deleted {
					t.Errorf("delete with the current token failed")
				}
			}
			all[w] = append(all[w], m)
		}
	})
	ids := map[string]bool{}
	kept := 0
	for w, ms := range all {
		for i, m := range ms {
			if ids[m.id] {
				t.Fatalf("session id %s handed out twice", m.id)
			}
			ids[m.id] = true
			var got struct {
				Session struct{ Metadata map[string]string }
			}
			st := do(t, srv, "GET", "/v2/sessions/"+m.id+"?sessionToken="+m.token, "", nil, &got)
			switch {
			case m.deleted && st != 404:
				t.Errorf("deleted session %s: %d", m.id, st)
			case !m.deleted:
				kept++
				owner, _ := base64.StdEncoding.DecodeString(got.Session.Metadata["owner"])
				idx, _ := base64.StdEncoding.DecodeString(got.Session.Metadata["i"])
				if st != 200 || string(owner) != strconv.Itoa(w) || string(idx) != strconv.Itoa(i) {
					t.Errorf("session %s: %d, metadata %v; want worker %d, i %d", m.id, st, got.Session.Metadata, w, i)
				}
			}
		}
	}
	var list struct{ Details struct{ TotalResult string } }
	do(t, srv, "POST", "/v2/sessions/search", `{"query":{"limit":1000}}`, nil, &list)
	if list.Details.TotalResult != strconv.Itoa(kept) {
		t.Fatalf("ListSessions totalResult %s, want %d", list.Details.TotalResult, kept)
	}
}
