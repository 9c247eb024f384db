package override

import (
	"net/http"
	"net/url"
	"testing"
)

func TestParsePrefer(t *testing.T) {
	tests := []struct {
		name   string
		header string
		query  string
		want   Prefer
		err    bool
	}{
		{"code", "code=404", "", Prefer{Code: 404}, false},
		{"all keys, Prism separators", "code=404, example=gone; delay=250, state=ignore", "", Prefer{Code: 404, Example: "gone", DelayMs: 250, IgnoreState: true}, false},
		{"quoted", `example="a b"`, "", Prefer{Example: "a b"}, false},
		{"foreign preferences ignored", "return=minimal, respond-async, dynamic=true", "", Prefer{}, false},
		{"query form", "", "__code=500&__delay=10", Prefer{Code: 500, DelayMs: 10}, false},
		{"header wins over query", "example=x", "__code=500", Prefer{Example: "x"}, false},
		{"two-digit code", "code=44", "", Prefer{}, true},
		{"non-numeric delay", "delay=soon", "", Prefer{}, true},
		{"unknown state", "state=keep", "", Prefer{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.header != "" {
				h.Set("Prefer", tt.header)
			}
			q, _ := url.ParseQuery(tt.query)
			got, err := ParsePrefer(h, q)
			if (err != nil) != tt.err {
				t.Fatalf("err %v", err)
			}
			got.Raw = ""
			if !tt.err && got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
