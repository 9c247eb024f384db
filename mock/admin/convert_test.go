package admin

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"72h", 72 * time.Hour, false},
		{"90m", 90 * time.Minute, false},
		{"3d", 72 * time.Hour, false},
		{"1d12h", 36 * time.Hour, false},
		{"-2d", -48 * time.Hour, false},
		{"-1d6h", -30 * time.Hour, false},
		{"1d-6h", 0, true},
		{"3 days", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("%q: %v %v, want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseFiles(t *testing.T) {
	tests := []struct {
		name, doc string
		ok        bool
	}{
		{"overrides", `{"overrides":[{"operation":"readSession","status":429,"times":2,"headers":{"Retry-After":"1"}}]}`, true},
		{"unknown key", `{"overrides":[{"operation":"readSession","status":429,"delay":3}]}`, false},
		{"no action", `{"overrides":[{"operation":"readSession"}]}`, false},
		{"not JSON", `{"overrides":`, false},
	}
	for _, tt := range tests {
		_, err := ParseOverridesFile("overrides.json", []byte(tt.doc))
		if (err == nil) != tt.ok {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	if _, err := ParseStateFile("s.json", []byte(`{"vendors":{"pingone":{"sessions":[]}},"clock":{"now":"2030-01-01T00:00:00Z","frozen":true,"offset":"0s"}}`)); err != nil {
		t.Error(err)
	}
	if _, err := ParseStateFile("s.json", []byte(`{"vendors":{},"clock":{"now":"yesterday","frozen":true,"offset":"0s"}}`)); err == nil {
		t.Error("bad date accepted")
	}
}
