package config

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"testing"
)

// FuzzParse checks that no input makes Parse panic, that every failure is a
// *ValidationError, that a value from the environment is never quoted in
// an error, and that what Parse accepts is valid. It also decodes each
// input into kinds, whose lists, maps and unsupported fields Config lacks:
// no panic, and every problem has the file and a line or key.
func FuzzParse(f *testing.F) {
	const secret = "zz-secret-zz"
	env := func(name string) (string, bool) {
		return secret, name != "UNSET"
	}
	f.Add([]byte(minimal))
	if example, err := os.ReadFile("../../config.example.yaml"); err == nil {
		f.Add(example)
	}
	for _, platform := range Platforms {
		f.Add([]byte(platformSecrets[platform]))
	}
	f.Add([]byte(platformFile(PlatformSuperOffice, "  bot_names: [a, ~]\n  client_id: x\n  platform: genesys-cloud\n")))
	f.Add([]byte("tenant: ${A}\nschedule: \"TZ=${B} * * * * *\"\n"))
	f.Add([]byte("a: &x {b: *x}\n"))
	f.Add([]byte("esm: {attributes: {chat_log: ~}, person: [1]}\n---\n"))
	f.Add([]byte("secrets: [a, \"${B}\", ~]\ndurations:\n  - 1s\n  - x\nlists: [[a], [[b]]]\nint8: 300\n"))
	f.Add([]byte("map: {a: x, a: y, <<: {}}\nmap_of_lists: {k: [1, ~], l: 2}\nmap_of_maps: {a: {b: 1}}\ntree: &t {a: *t}\n"))
	f.Add([]byte("structs: [{value: a, code: b}, x]\nchan: 1\nunexported: ~\npointers: [a]\nint_keys: {1: a}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		decodeKindsFuzz(t, data)
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
		// A secret may equal another value ("0" for everything), so ask
		// whether the renderings change with the secrets instead of
		// looking for the secrets in them.
		other := otherSecrets(c)
		if c.String() != other.String() {
			t.Fatalf("String shows a secret:\n%s\n%s", c, other)
		}
		if a, b := logJSON(c), logJSON(other); a != b {
			t.Fatalf("LogValue shows a secret:\n%s\n%s", a, b)
		}
	})
}

// otherSecrets returns a copy of c whose every non-empty secret has
// another value.
func otherSecrets(c *Config) *Config {
	d := *c
	swapSecrets(reflect.ValueOf(&d).Elem())
	return &d
}

func swapSecrets(v reflect.Value) {
	switch {
	case v.Type() == secretType:
		if v.String() != "" {
			v.SetString(v.String() + "-other")
		}
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				swapSecrets(v.Field(i))
			}
		}
	case v.Kind() == reflect.Slice && v.Type().Elem() == secretType:
		s := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(s, v)
		v.Set(s)
		for i := range s.Len() {
			swapSecrets(s.Index(i))
		}
	}
}

func logJSON(c *Config) string {
	var b bytes.Buffer
	slog.New(slog.NewJSONHandler(&b, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})).Info("config", "config", c)
	return b.String()
}

// decodeKindsFuzz decodes data into kinds.
func decodeKindsFuzz(t *testing.T, data []byte) {
	root, p := readYAML(bytes.NewReader(data), "fuzz.yaml")
	if p != nil {
		return
	}
	var k kinds
	d := newDecoder("fuzz.yaml", func(string) (string, bool) { return "zz-secret-zz", true })
	d.decodeStruct(root, reflect.ValueOf(&k).Elem(), "")
	if len(d.problems) > maxProblems+1 {
		t.Fatalf("%d problems", len(d.problems))
	}
	for _, p := range d.problems {
		if p.File != "fuzz.yaml" || p.Line == 0 && p.Key == "" {
			t.Fatalf("problem %+v has no file, or neither line nor key", p)
		}
	}
}
