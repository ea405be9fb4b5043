package config

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzParse checks that no input makes Parse panic, that every failure is a
// *ValidationError, that a value from the environment is never quoted in
// an error, and that what Parse accepts is valid.
func FuzzParse(f *testing.F) {
	const secret = "zz-secret-zz"
	env := func(name string) (string, bool) {
		return secret, name != "UNSET"
	}
	f.Add([]byte(minimal))
	if example, err := os.ReadFile("../../config.example.yaml"); err == nil {
		f.Add(example)
	}
	f.Add([]byte("tenant: ${A}\nschedule: \"TZ=${B} * * * * *\"\n"))
	f.Add([]byte("a: &x {b: *x}\n"))
	f.Add([]byte("esm: {attributes: {chat_log: ~}, person: [1]}\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(bytes.NewReader(data), "fuzz.yaml", env)
		if err != nil {
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("error %T is not a *ValidationError: %v", err, err)
			}
			if !bytes.Contains(data, []byte(secret)) && strings.Contains(err.Error(), secret) {
				t.Fatalf("a value from the environment is quoted: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a config Validate rejects: %v", err)
		}
		// The fake environment gives the login the same value as the secrets.
		s := strings.ReplaceAll(c.String(), "login="+c.ESM.Login, "")
		if strings.Contains(s, string(c.Chat.Token)) || strings.Contains(s, string(c.ESM.Password)) {
			t.Fatalf("String shows a secret: %s", s)
		}
	})
}
