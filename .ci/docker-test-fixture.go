//go:build ignore

// docker-test-fixture adds one ZITADEL user to a copy of
// fixtures/zitadel/users.json, so docker-test can tell a mounted fixtures
// dir from the embedded one by logging that user in. The new user is a
// clone of the first seeded human user (so it satisfies the fixture schema)
// with its own id, login name and e-mail, and no credentials that must be
// unique (passkeys, tokens, IdP links).
//
//	go run .ci/docker-test-fixture.go FILE LOGIN_NAME
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: go run .ci/docker-test-fixture.go users.json LOGIN_NAME")
		os.Exit(2)
	}
	if err := addUser(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "docker-test-fixture:", err)
		os.Exit(1)
	}
}

func addUser(file, login string) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	// The file is either a list of users or an object holding one under "users".
	users, set := doc.([]any), func(u []any) { doc = u }
	if obj, ok := doc.(map[string]any); ok {
		users, _ = obj["users"].([]any)
		set = func(u []any) { obj["users"] = u }
	}
	if len(users) == 0 {
		return errors.New(file + ": no users to clone")
	}
	first, ok := users[0].(map[string]any)
	if !ok {
		return errors.New(file + ": first user is not an object")
	}
	u := make(map[string]any, len(first))
	for k, v := range first {
		u[k] = v
	}
	for _, k := range []string{"passkeys", "u2f", "recoveryCodes", "idpLinks", "personalAccessTokens", "totpSecret", "phone", "otpSms"} {
		delete(u, k)
	}
	u["id"] = "990000000000000001"
	u["loginNames"] = []any{login}
	u["displayName"] = "Docker Test"
	u["state"] = "active"
	if _, ok := u["email"]; ok {
		u["email"] = login
	}
	set(append(users, u))
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, append(out, '\n'), 0o644)
}
