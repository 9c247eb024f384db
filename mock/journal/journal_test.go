package journal

import (
	"net/http"
	"testing"
)

func TestRingKeepsNewest(t *testing.T) {
	j := New(3)
	for _, op := range []string{"a", "b", "c", "d", "e"} {
		j.Add(Entry{Operation: op})
	}
	all := j.All()
	if len(all) != 3 || all[0].Operation != "c" || all[2].Operation != "e" || all[2].Seq != 5 {
		t.Fatalf("%+v", all)
	}
	if got := j.Find(Query{Limit: 1}); len(got) != 1 || got[0].Operation != "e" {
		t.Errorf("limit keeps the newest: %+v", got)
	}
	j.Clear()
	if j.Len() != 0 || j.Add(Entry{}).Seq != 6 {
		t.Error("clear")
	}
}

func TestQueryMatch(t *testing.T) {
	e := Entry{Operation: "createSession", Method: "POST", Path: "/v1/x", Status: 201,
		Header: http.Header{"X-Tenant": {"t1"}},
		Body:   map[string]any{"user": map[string]any{"id": "u1"}, "n": 2.0, "tags": []any{"a", "b"}}}
	valid, invalid := true, false
	tests := []struct {
		name string
		q    Query
		want bool
	}{
		{"empty", Query{}, true},
		{"operation", Query{Operation: "createSession"}, true},
		{"other operation", Query{Operation: "readSession"}, false},
		{"method any case", Query{Method: "post"}, true},
		{"body string", Query{Body: map[string]any{"/user/id": "u1"}}, true},
		{"body number", Query{Body: map[string]any{"/n": 2}}, true},
		{"body array item", Query{Body: map[string]any{"/tags/1": "b"}}, true},
		{"body object", Query{Body: map[string]any{"/user": map[string]any{"id": "u1"}}}, true},
		{"body differs", Query{Body: map[string]any{"/user/id": "u2"}}, false},
		{"body missing", Query{Body: map[string]any{"/nope": nil}}, false},
		{"header", Query{Header: map[string]string{"x-tenant": "t1"}}, true},
		{"valid", Query{Valid: &valid}, true},
		{"invalid", Query{Valid: &invalid}, false},
		{"unmatched", Query{Unmatched: true}, false},
	}
	for _, tt := range tests {
		if got := tt.q.Match(e); got != tt.want {
			t.Errorf("%s: %v", tt.name, got)
		}
	}
}

func TestRedactor(t *testing.T) {
	r := DefaultRedactor
	h := r.Header(http.Header{"Authorization": {"Bearer abc"}, "Cookie": {"s=1"}, "Accept": {"x"}})
	if h.Get("Authorization") != "Bearer "+Redacted || h.Get("Cookie") != Redacted || h.Get("Accept") != "x" {
		t.Errorf("headers %v", h)
	}
	body := r.Body("application/json", []byte(`{"checks":{"user":{"loginName":"ann"},"password":{"password":"pw"},"totp":{"code":"123456"}},"sessionToken":"tok","lifetime":"3600s","idpIntent":{"idpIntentToken":"x"}}`)).(map[string]any)
	checks := body["checks"].(map[string]any)
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"nested password", checks["password"].(map[string]any)["password"], Redacted},
		{"otp code", checks["totp"].(map[string]any)["code"], Redacted},
		{"token suffix", body["sessionToken"], Redacted},
		{"nested token suffix", body["idpIntent"].(map[string]any)["idpIntentToken"], Redacted},
		{"login name kept", checks["user"].(map[string]any)["loginName"], "ann"},
		{"lifetime kept", body["lifetime"], "3600s"},
		{"query", r.Query("access_token=a&x=1"), "access_token=%5BREDACTED%5D&x=1"},
		{"form", r.Body("application/x-www-form-urlencoded", []byte("password=p&u=me")).(map[string]any)["password"], Redacted},
		{"text", r.Body("text/plain", []byte("hello")), "hello"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	var none *Redactor
	if none.Header(http.Header{"Authorization": {"Bearer abc"}}).Get("Authorization") != "Bearer abc" {
		t.Error("nil redactor must keep secrets")
	}
}
