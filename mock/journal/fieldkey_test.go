package journal

import (
	"strings"
	"testing"
)

// fieldKey is the allocation-free form of lower-casing and dropping "_"
// and "-": it must agree with that definition on every kind of key.
func TestFieldKey(t *testing.T) {
	for _, key := range []string{"", "password", "Password", "client_secret", "X-Api-Key", "sessionToken",
		"new-Password_", "ÄrgerToken", "İd", "otp", "a_b-c_D"} {
		want := strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(key))
		if got := fieldKey(key); got != want {
			t.Errorf("fieldKey(%q) = %q, want %q", key, got, want)
		}
	}
}

// A body kept raw with SetBody reads back decoded and redacted, and body
// queries match it.
func TestSetBodyDecodedOnRead(t *testing.T) {
	j := New(4)
	var e Entry
	e.Operation = "op"
	e.SetBody("application/json", []byte(`{"user":"u1","password":"p"}`), DefaultRedactor)
	j.Add(e)
	got := j.Find(Query{Body: map[string]any{"/user": "u1"}})
	if len(got) != 1 {
		t.Fatalf("body query found %d entries, want 1", len(got))
	}
	m, _ := got[0].Body.(map[string]any)
	if m["user"] != "u1" || m["password"] != Redacted {
		t.Fatalf("body read back as %#v", got[0].Body)
	}
	if n := j.Count(Query{Body: map[string]any{"/user": "u2"}}); n != 0 {
		t.Fatalf("non-matching body query counted %d", n)
	}
}
