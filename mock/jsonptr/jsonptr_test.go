package jsonptr

import "testing"

func TestGet(t *testing.T) {
	doc := map[string]any{"a/b": 1.0, "m~n": "x", "list": []any{"p", map[string]any{"q": true}}}
	tests := []struct {
		ptr  string
		want any
		ok   bool
	}{
		{"", doc, true},
		{"/a~1b", 1.0, true},
		{"/m~0n", "x", true},
		{"/list/1/q", true, true},
		{"/list/2", nil, false},
		{"/list/-1", nil, false},
		{"/nope", nil, false},
		{"nope", nil, false},
	}
	for _, tt := range tests {
		got, ok := Get(doc, tt.ptr)
		if ok != tt.ok || (ok && !Equal(got, tt.want)) {
			t.Errorf("%q: %v %v", tt.ptr, got, ok)
		}
	}
	if Check("/a~2") == nil || Check("a") == nil || Check("/a~1b") != nil {
		t.Error("Check")
	}
}
