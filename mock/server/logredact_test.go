package server

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/idpmock/idpmock/mock/journal"
	"github.com/idpmock/idpmock/mock/problem"
)

func TestRedactHandlerHidesSecretAttributes(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(redactHandler{inner: slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), r: journal.DefaultRedactor})
	log.With("sessionToken", "tok-1").WithGroup("req").Info("login",
		"password", "pw-2", "code", "123456", "user", "mini",
		slog.Group("checks", "otp", "otp-3", "loginName", "mini@mouse.com"))
	out := buf.String()
	for _, secret := range []string{"tok-1", "pw-2", "123456", "otp-3"} {
		if strings.Contains(out, secret) {
			t.Errorf("log line carries %q: %s", secret, out)
		}
	}
	for _, kept := range []string{"user=mini", "req.checks.loginName=mini@mouse.com", "req.password=[REDACTED]"} {
		if !strings.Contains(out, kept) {
			t.Errorf("log line lost %q: %s", kept, out)
		}
	}
}

// Strict-mode log lines name fields and rules, never kin-openapi's
// message text, which quotes the offending values.
func TestIssueFieldsQuoteNoValues(t *testing.T) {
	p := &problem.Problem{Kind: problem.Internal, Message: `value "s3cr3t-token" is not one of the allowed values`,
		Issues: []problem.Issue{{In: "body", Field: "sessionToken", Rule: "pattern", Message: `string "s3cr3t-token" doesn't match`}}}
	got := strings.Join(issueFields(p), ";")
	if strings.Contains(got, "s3cr3t") || got != "body sessionToken (pattern)" {
		t.Fatalf("issueFields = %q", got)
	}
}
