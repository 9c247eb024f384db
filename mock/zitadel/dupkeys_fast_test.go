package zitadel

import "testing"

// TestNoDuplicateKey: the fast scan never clears a body the exact scan
// finds a repeated member in, and it does clear the bodies clients send,
// without allocating.
func TestNoDuplicateKey(t *testing.T) {
	tests := []struct {
		body      string
		wantClear bool // the fast path answers alone
	}{
		{`{"checks":{"user":{"loginName":"mini@mouse.com"}},"lifetime":"18000s"}`, true},
		{`{"a":1,"b":[{"a":2},{"a":3}],"c":{"a":{"a":4}}}`, true},
		{`{"a":"{\"a\":1,\"a\":2}","b":"x"}`, true},
		{`[{"a":1},{"a":1}]`, true},
		{``, true},
		{`{"a":1,"a":2}`, false},
		{`{"a":{"b":1},"b":2,"a":3}`, false},
		{`{"x":{"b":1,"b":2}}`, false},
		{`{"a":1,"\u0061":2}`, false},
		{`{"é":1,"é":2}`, false},
		{"{\"a\xff\":1,\"a\xfe\":2}", false},
		{`{"a":1,"a":2`, false},
		{`{"a":1,"b":`, true},
		{`{"a":"unterminated`, false},
		{`}{`, false},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			clear := noDuplicateKey([]byte(tt.body))
			if clear != tt.wantClear {
				t.Errorf("noDuplicateKey = %v, want %v", clear, tt.wantClear)
			}
			if _, _, _, dup := exactDuplicateKey([]byte(tt.body)); clear && dup {
				t.Errorf("cleared a body with a repeated member")
			}
		})
	}
	body := []byte(tests[0].body)
	if n := testing.AllocsPerRun(100, func() { noDuplicateKey(body) }); n != 0 {
		t.Errorf("noDuplicateKey allocates %.0f times", n)
	}
}

// FuzzNoDuplicateKey: whatever the bytes, the fast scan clears nothing the
// exact scan finds a repeated member in.
func FuzzNoDuplicateKey(f *testing.F) {
	for _, s := range []string{`{"a":1,"a":2}`, `{"a":[{"b":1}],"b":{"b":2}}`, `{"a\"":1,"a\"":2}`, `[{"a":1}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, _, _, dup := exactDuplicateKey(b); dup && noDuplicateKey(b) {
			t.Fatalf("cleared %q, which repeats a member", b)
		}
	})
}
