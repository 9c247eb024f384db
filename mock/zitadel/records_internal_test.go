package zitadel

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The records' codecs keep what logins changed beside the fixture fields,
// whose JSON (the fixture format) stays without them.
func TestRecordCodecsRoundTrip(t *testing.T) {
	u := &user{ID: "1", OrganizationID: "o", LoginNames: []string{"a@b"}, Password: "p", RecoveryCodes: []string{"r1", "r2"},
		IDPLinks: []idpLink{{IDPID: "i", IDPUserID: "u"}}, PersonalAccessTokens: []string{"pat"},
		PasswordFailures: 3, LockedOut: true, UsedRecoveryCodes: []string{"r1"}, RecoveryCodeOps: map[string]string{"r1": "s/op"}}
	it := &intent{ID: "2", Token: "t", State: "succeeded", IDPID: "i", IDPUserID: "u",
		ExpiresAt: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC), Consumed: true, ConsumedBy: "s/op"}
	for _, c := range []struct {
		name    string
		v       any
		enc     func() ([]byte, error)
		dec     func([]byte) (any, error)
		fixture any
		runtime string // a member only the codec writes
	}{
		{"user", u, func() ([]byte, error) { return userCodec{}.Marshal(u) }, func(b []byte) (any, error) { return userCodec{}.Unmarshal(b) }, u, "passwordFailures"},
		{"intent", it, func() ([]byte, error) { return intentCodec{}.Marshal(it) }, func(b []byte) (any, error) { return intentCodec{}.Unmarshal(b) }, it, "consumed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := c.enc()
			if err != nil {
				t.Fatal(err)
			}
			back, err := c.dec(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, c.v) {
				t.Errorf("round trip %s\n got %+v\nwant %+v", b, back, c.v)
			}
			if !strings.Contains(string(b), `"`+c.runtime+`"`) {
				t.Errorf("stored record %s lacks %s", b, c.runtime)
			}
			fx, _ := json.Marshal(c.fixture)
			if strings.Contains(string(fx), `"`+c.runtime+`"`) {
				t.Errorf("fixture JSON %s carries %s", fx, c.runtime)
			}
		})
	}
}
