package server

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/idpmock/idpmock/mock/admin"
)

// TestReplayLog: replaying the change log over a snapshot sets every record,
// rest and clock to its last logged value; replaying entries the snapshot
// already holds (a crash between a compaction's snapshot and the removal of
// the old log) changes nothing; a last line cut short by a crash is ignored
// and a bad line before it is an error.
func TestReplayLog(t *testing.T) {
	snap := `{"sessions":[{"id":"a","v":1},{"id":"b","v":1}],"lastId":"5"}`
	member := func(v string) string {
		if v == "inc" {
			return "sessions"
		}
		return ""
	}
	tests := []struct {
		name string
		logs []string
		want string // the "inc" document after replay; "" for an error
	}{
		{"nothing", []string{"", ""}, `{"lastId":"5","sessions":[{"id":"a","v":1},{"id":"b","v":1}]}`},
		{"update, create, delete, rest", []string{"", `{"v":"inc","id":"a","doc":{"id":"a","v":2}}
{"v":"inc","id":"c","doc":{"id":"c","v":1}}
{"v":"inc","id":"b"}
{"v":"inc","rest":{"lastId":"9","sessions":null}}
`}, `{"lastId":"9","sessions":[{"id":"a","v":2},{"id":"c","v":1}]}`},
		{"old log the snapshot already holds, then the new one", []string{`{"v":"inc","id":"a","doc":{"id":"a","v":0}}
{"v":"inc","id":"a","doc":{"id":"a","v":1}}
`, `{"v":"inc","id":"b","doc":{"id":"b","v":3}}
`}, `{"lastId":"5","sessions":[{"id":"a","v":1},{"id":"b","v":3}]}`},
		{"torn last line", []string{"", `{"v":"inc","id":"a","doc":{"id":"a","v":2}}
{"v":"inc","id":"b","doc":{"id":"b","v":`}, `{"lastId":"5","sessions":[{"id":"a","v":2},{"id":"b","v":1}]}`},
		{"whole document", []string{"", `{"v":"inc","id":"a","doc":{"id":"a","v":2}}
{"v":"inc","whole":{"sessions":[{"id":"z","v":1}]}}
{"v":"inc","id":"y","doc":{"id":"y","v":1}}
`}, `{"sessions":[{"id":"z","v":1},{"id":"y","v":1}]}`},
		{"bad line in the middle", []string{"", "{oops\n" + `{"v":"inc","id":"a"}` + "\n"}, ""},
		{"record of a vendor saved whole", []string{"", `{"v":"other","id":"a","doc":{}}` + "\n"}, ""},
	}
	for _, tt := range tests {
		st := admin.State{Vendors: map[string]json.RawMessage{"inc": json.RawMessage(snap)}}
		logs := make([][]byte, len(tt.logs))
		for i, l := range tt.logs {
			logs[i] = []byte(l)
		}
		_, err := replayLog(&st, logs, member)
		if tt.want == "" {
			if err == nil {
				t.Errorf("%s: no error", tt.name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		var got, want any
		_ = json.Unmarshal(st.Vendors["inc"], &got)
		_ = json.Unmarshal([]byte(tt.want), &want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %s, want %s", tt.name, st.Vendors["inc"], tt.want)
		}
	}
}
