package zitadel_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestListSessions(t *testing.T) {
	srv := start(t)
	srv.Clock().Freeze()
	t0 := srv.Clock().Now()

	// An empty result is {"details":{...}} without sessions or totalResult;
	// the timestamp is the last session event's, the zero Timestamp before
	// there is any, and there is never a processedSequence.
	r := call(t, srv, http.MethodPost, "/v2/sessions/search", "")
	wantStatus(t, r, 200)
	if has(r.body, "sessions") || has(r.body, "details.totalResult") || has(r.body, "details.processedSequence") ||
		str(r.body, "details.timestamp") != "0001-01-01T00:00:00Z" {
		t.Fatalf("empty list: %s", r.raw)
	}

	var ids []string
	create := func(body string) string {
		r := call(t, srv, http.MethodPost, "/v2/sessions", body)
		wantStatus(t, r, 201)
		srv.Clock().Advance(time.Minute)
		ids = append(ids, str(r.body, "sessionId"))
		return ids[len(ids)-1]
	}
	a := create(`{"checks":{"user":{"loginName":"mini@mouse.com"}},"userAgent":{"fingerprintId":"fp-a"},"lifetime":"600s"}`)
	b := create(`{"checks":{"user":{"loginName":"mickey@mouse.com"}},"userAgent":{"fingerprintId":"fp-b"}}`)
	r = callWith(t, srv, http.MethodPost, "/v2/sessions", `{"checks":{"user":{"loginName":"mini@mouse.com"}},"lifetime":"7200s"}`,
		map[string]string{"Authorization": "Bearer pat-mickey", "Content-Type": "application/json"})
	wantStatus(t, r, 201)
	c := str(r.body, "sessionId")
	lastWrite := usec(srv.Clock().Now())
	srv.Clock().Advance(time.Minute)

	cases := []struct {
		name, body string
		want       []string
		total      string
	}{
		// No sorting column: ZITADEL adds no ORDER BY and asc changes
		// nothing; the mock answers in creation order.
		{"no sorting column: creation order", `{}`, []string{a, b, c}, "3"},
		{"no sorting column: asc false changes nothing", `{"query":{"asc":false}}`, []string{a, b, c}, "3"},
		{"no sorting column: asc true changes nothing", `{"query":{"asc":true}}`, []string{a, b, c}, "3"},
		{"unspecified sorting column", `{"sortingColumn":"SESSION_FIELD_NAME_UNSPECIFIED"}`, []string{a, b, c}, "3"},
		{"by creation date: newest first", `{"sortingColumn":"SESSION_FIELD_NAME_CREATION_DATE"}`, []string{c, b, a}, "3"},
		{"by creation date ascending", `{"sortingColumn":"SESSION_FIELD_NAME_CREATION_DATE","query":{"asc":true}}`, []string{a, b, c}, "3"},
		{"by creation date, limit", `{"sortingColumn":"SESSION_FIELD_NAME_CREATION_DATE","query":{"limit":2}}`, []string{c, b}, "3"},
		{"limit", `{"query":{"limit":2}}`, []string{a, b}, "3"},
		{"offset as string", `{"query":{"offset":"1","limit":1}}`, []string{b}, "3"},
		// totalResult is counted over the returned rows: none, no total.
		{"offset past the end", `{"query":{"offset":"5"}}`, nil, ""},
		{"offset at the end", `{"query":{"offset":"3"}}`, nil, ""},
		{"ids", `{"queries":[{"idsQuery":{"ids":["` + c + `","` + a + `"]}}]}`, []string{a, c}, "2"},
		{"user id", `{"queries":[{"userIdQuery":{"id":"` + miniID + `"}}]}`, []string{a, c}, "2"},
		{"creation date greater", `{"queries":[{"creationDateQuery":{"creationDate":"` + t0.Add(30*time.Second).Format(time.RFC3339Nano) + `","method":"TIMESTAMP_QUERY_METHOD_GREATER"}}]}`, []string{b, c}, "2"},
		// Stored dates have microseconds; a query date is cut the same way.
		{"creation date equals, as read back", `{"queries":[{"creationDateQuery":{"creationDate":"` + usec(t0).Format(time.RFC3339Nano) + `"}}]}`, []string{a}, "1"},
		{"creation date equals, nanoseconds dropped", `{"queries":[{"creationDateQuery":{"creationDate":"` + t0.Format(time.RFC3339Nano) + `"}}]}`, []string{a}, "1"},
		{"creator given", `{"queries":[{"creatorQuery":{"id":"` + mickeyID + `"}}]}`, []string{c}, "1"},
		{"creator is the caller", `{"queries":[{"creatorQuery":{}}]}`, []string{a, b}, "2"},
		{"user agent", `{"queries":[{"userAgentQuery":{"fingerprintId":"fp-b"}}]}`, []string{b}, "1"},
		{"expiration before", `{"queries":[{"expirationDateQuery":{"expirationDate":"` + t0.Add(time.Hour).Format(time.RFC3339Nano) + `","method":"TIMESTAMP_QUERY_METHOD_LESS"}}]}`, []string{a}, "1"},
		{"expiration after (never counts as after)", `{"queries":[{"expirationDateQuery":{"expirationDate":"` + t0.Add(time.Hour).Format(time.RFC3339Nano) + `","method":"TIMESTAMP_QUERY_METHOD_GREATER_OR_EQUALS"}}]}`, []string{b, c}, "2"},
		{"queries are ANDed", `{"queries":[{"userIdQuery":{"id":"` + miniID + `"}},{"userAgentQuery":{"fingerprintId":"fp-a"}}]}`, []string{a}, "1"},
		{"nothing matches", `{"queries":[{"idsQuery":{"ids":["0"]}}]}`, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/v2/sessions/search", connectSv + "ListSessions"} {
				r := call(t, srv, http.MethodPost, path, tc.body)
				wantStatus(t, r, 200)
				var got []string
				list, _ := r.body["sessions"].([]any)
				for _, s := range list {
					got = append(got, str(s, "id"))
				}
				if strings.Join(got, ",") != strings.Join(tc.want, ",") {
					t.Fatalf("%s: sessions %v, want %v\n%s", path, got, tc.want, r.raw)
				}
				if len(tc.want) == 0 && has(r.body, "sessions") {
					t.Fatalf("%s: empty page must omit sessions: %s", path, r.raw)
				}
				if got := str(r.body, "details.totalResult"); got != tc.total {
					t.Fatalf("%s: totalResult %q, want %q", path, got, tc.total)
				}
				if has(r.body, "details.processedSequence") || !mustTime(t, str(r.body, "details.timestamp")).Equal(lastWrite) {
					t.Fatalf("%s: details %s, want timestamp %v (the last write) and no processedSequence", path, r.raw, lastWrite)
				}
			}
		})
	}

	r = call(t, srv, http.MethodPost, "/v2/sessions/search", `{"query":{"limit":1001}}`)
	wantError(t, r, 400, 3, "Limit exceeded (QUERY-4M0fs)")
	r = call(t, srv, http.MethodPost, "/v2/sessions/search", `{"queries":[{"userAgentQuery":{}}]}`)
	wantError(t, r, 400, 3, "GRPC-x8n23uh")
	// Deleted sessions are not listed.
	wantStatus(t, call(t, srv, http.MethodDelete, "/v2/sessions/"+a, ""), 200)
	r = call(t, srv, http.MethodPost, "/v2/sessions/search", `{}`)
	if str(r.body, "details.totalResult") != "2" || !mustTime(t, str(r.body, "details.timestamp")).Equal(usec(srv.Clock().Now())) {
		t.Fatalf("after delete: %s", r.raw)
	}
}

// userIdQuery compares user_id = id in SQL; a session without a checked
// user holds NULL there, so an empty id finds nothing, not the anonymous
// sessions.
func TestListEmptyUserID(t *testing.T) {
	srv := start(t)
	wantStatus(t, call(t, srv, http.MethodPost, "/v2/sessions", `{}`), http.StatusCreated)
	createMini(t, srv, "")
	for _, q := range []string{`{"userIdQuery":{}}`, `{"userIdQuery":{"id":""}}`} {
		r := call(t, srv, http.MethodPost, "/v2/sessions/search", `{"queries":[`+q+`]}`)
		wantStatus(t, r, http.StatusOK)
		if has(r.body, "sessions") || has(r.body, "details.totalResult") {
			t.Fatalf("%s: %s", q, r.raw)
		}
	}
}
