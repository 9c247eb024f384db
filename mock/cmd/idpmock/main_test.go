package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCommandLine(t *testing.T) {
	cases := []struct {
		name       string
		args       []string
		env        map[string]string
		wantErr    string // "" means success
		usage      bool   // a usageError (exit 2)
		wantStdout []string
		notStdout  []string
	}{
		{"--help lists commands", []string{"--help"}, nil, "", false,
			[]string{"serve", "health", "proxy", "version", "help", "IDPMOCK_"}, nil},
		{"help", []string{"help"}, nil, "", false, []string{"Usage:", "idpmock help <command>"}, nil},
		{"help serve lists every flag with its twin", []string{"help", "serve"}, nil, "", false,
			[]string{"--addr", "[IDPMOCK_ADDR]", "--port", "[IDPMOCK_PORT]", "--admin-cors ORIGINS", "[IDPMOCK_ADMIN_CORS]",
				"--fixtures DIR", "--journal-size", "-1 turns it off", "[IDPMOCK_PINGONE_BASE_URL]", "--log-format"}, nil},
		{"serve --help is help serve", []string{"serve", "--help"}, nil, "", false, []string{"Usage: idpmock serve", "[IDPMOCK_STATE_FILE]"}, nil},
		{"proxy --help renders --record", []string{"proxy", "-h"}, nil, "", false,
			[]string{"--record DIR", "'idpmock serve --overrides DIR/overrides.json'", "--upstream URL", "-1 turns it off"}, []string{"`"}},
		{"help of an unknown command", []string{"help", "nope"}, nil, "unknown command", true, nil, nil},
		{"unknown command", []string{"serv"}, nil, `unknown command "serv"`, true, nil, nil},
		{"stray argument refused", []string{"serve", "--strict", "extra"}, nil, `unexpected argument "extra"`, true, nil, nil},
		{"stray argument after health", []string{"health", "x"}, nil, `unexpected argument "x"`, true, nil, nil},
		{"--addr and --port", []string{"health", "--addr", "127.0.0.1:1", "--port", "2"}, nil, "not both", true, nil, nil},
		{"bad --port", []string{"health", "--port", "70000"}, nil, "want 0 to 65535", true, nil, nil},
		{"bad env twin", []string{"health"}, map[string]string{"IDPMOCK_TIMEOUT": "soon"}, "IDPMOCK_TIMEOUT", true, nil, nil},
		{"version", []string{"version"}, nil, "", false, []string{"idpmock ", "commit ", "built ", "go      go1."}, nil},
		{"--version", []string{"--version"}, nil, "", false, []string{"idpmock ", "go      go1."}, nil},
		{"--admin-cors wants origins", []string{"serve", "--admin-cors", "localhost:3000", "--port", "0"}, nil, "want origins like", true, nil, nil},
		{"bad log format", []string{"serve", "--log-format", "xml", "--port", "0"}, nil, "--log-format", true, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			var out, errOut bytes.Buffer
			err := run(context.Background(), c.args, &out, &errOut)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("error %v (stderr %s)", err, errOut.String())
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			}
			var ue usageError
			if c.wantErr != "" && errors.As(err, &ue) != c.usage {
				t.Errorf("usage error = %v, want %v", !c.usage, c.usage)
			}
			for _, w := range c.wantStdout {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range c.notStdout {
				if strings.Contains(out.String(), w) {
					t.Errorf("stdout has %q:\n%s", w, out.String())
				}
			}
		})
	}
}

// Every flag of every command is listed by its help with its twin.
func TestHelpListsEveryFlag(t *testing.T) {
	for _, cmd := range []string{"serve", "proxy", "health"} {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"help", cmd}, &out, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(line, "  --") {
				n++
				name := strings.Fields(line)[0][2:]
				if !strings.Contains(line, "["+envName(name)+"]") {
					t.Errorf("%s: %q lacks its twin", cmd, line)
				}
			}
		}
		if n < 3 {
			t.Errorf("%s help lists %d flags:\n%s", cmd, n, out.String())
		}
	}
}

func TestHumanLogLine(t *testing.T) {
	var b bytes.Buffer
	for _, c := range []struct {
		color bool
		want  []string
	}{
		{false, []string{"INFO  POST /v2/sessions  SessionService_CreateSession  400  1.23ms  invalid=\"body checks.user (required)\""}},
		{true, []string{"\x1b[33m400\x1b[0m"}},
	} {
		b.Reset()
		log := slog.New(&humanHandler{w: &b, level: slog.LevelInfo, color: c.color, mu: new(sync.Mutex)})
		log.Info("request", "method", "POST", "path", "/v2/sessions", "operation", "SessionService_CreateSession",
			"status", 400, "duration", 1234*time.Microsecond, "invalid", "body checks.user (required)")
		for _, w := range c.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("color=%v: line %q lacks %q", c.color, b.String(), w)
			}
		}
		if strings.Count(b.String(), "\n") != 1 {
			t.Errorf("want one line, got %q", b.String())
		}
	}
}
