package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/idpmock/idpmock/mock/problem"
)

// checkOverridesFlag refuses an --overrides file that does not exist: a
// typo would otherwise start a mock without the overrides the user meant.
// Only the default, <fixtures>/overrides.json, may be absent.
func checkOverridesFlag(file string) error {
	if file == "" {
		return nil
	}
	if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("--overrides %s: no such file (leave --overrides out to use <fixtures>/overrides.json when it exists)", file)
	} else if err != nil {
		return fmt.Errorf("--overrides: %w", err)
	}
	return nil
}

// maxDelay is the longest delay an override or Prefer may ask: the answer
// must still be written before the write timeout cuts the connection, or
// the client gets no answer at all.
func (s *Server) maxDelay() time.Duration {
	return max(s.cfg.WriteTimeout-time.Second, s.cfg.WriteTimeout/2)
}

// checkDelay refuses a delay the write timeout would cut short; field
// names what asked for it.
func (s *Server) checkDelay(d time.Duration, in, field string) error {
	if d <= s.maxDelay() {
		return nil
	}
	msg := fmt.Sprintf("%s of %v is longer than this mock can wait and still answer: at most %v (--write-timeout %v less 1s)",
		field, d, s.maxDelay(), s.cfg.WriteTimeout)
	return &problem.Problem{Kind: problem.Invalid, Message: msg,
		Issues: []problem.Issue{{In: in, Field: field, Rule: "maximum", Message: msg}}}
}
