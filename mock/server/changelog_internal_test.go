package server

import (
	"encoding/json"
	"os"
	"path/filepath"
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

// TestKeepOld: rotating the log never drops entries a snapshot may lack:
// with no old log it is a rename; with one left by an unfinished
// compaction the log is appended to it (minus a line cut short at its end).
func TestKeepOld(t *testing.T) {
	dir := t.TempDir()
	log, old := filepath.Join(dir, "s.log"), filepath.Join(dir, "s.log.old")
	tests := []struct {
		name          string
		log, old      *string
		wantOld       string
		wantLogExists bool
	}{
		{"no log", nil, nil, "", false},
		{"rename", ptr("a\n"), nil, "a\n", false},
		{"append", ptr("c\n"), ptr("a\nb\n"), "a\nb\nc\n", false},
		{"append after a torn line", ptr("c\n"), ptr("a\n{\"b"), "a\nc\n", false},
		{"empty log", ptr(""), ptr("a\n"), "a\n", false},
	}
	for _, tt := range tests {
		_ = os.Remove(log)
		_ = os.Remove(old)
		if tt.log != nil {
			_ = os.WriteFile(log, []byte(*tt.log), 0o600)
		}
		if tt.old != nil {
			_ = os.WriteFile(old, []byte(*tt.old), 0o600)
		}
		if err := keepOld(log, old); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got, _ := os.ReadFile(old)
		if string(got) != tt.wantOld {
			t.Errorf("%s: old log %q, want %q", tt.name, got, tt.wantOld)
		}
		if _, err := os.Stat(log); (err == nil) != tt.wantLogExists {
			t.Errorf("%s: log exists: %v", tt.name, err == nil)
		}
	}
}

func ptr(s string) *string { return &s }
