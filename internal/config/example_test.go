package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestExampleConfig_PlatformBlocks: each platform's commented chat section
// in config.example.yaml parses, names every key of the platform's block,
// and shows the defaults.
func TestExampleConfig_PlatformBlocks(t *testing.T) {
	example, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sections := commentedChatSections(string(example))
	env := func(name string) (string, bool) { return "x-" + strings.ToLower(name), true }
	for _, platform := range Platforms[1:] {
		t.Run(platform, func(t *testing.T) {
			section, ok := sections[platform]
			if !ok {
				t.Fatalf("no commented chat section with platform: %s in the example", platform)
			}
			for _, f := range structFields(reflect.TypeFor[ChatConfig]()) {
				if f.platform == platform && !strings.Contains(section, " "+f.name+":") {
					t.Errorf("the example does not show chat.%s", f.name)
				}
			}
			text := "tenant: acme\nschedule: \"*/5 * * * *\"\n" + section + esmSection
			c, err := Parse(strings.NewReader(text), "config.example.yaml", env)
			if err != nil {
				t.Fatalf("%v\n%s", err, text)
			}
			d := mustParse(t, platformFile(platform, ""))
			if c.Chat.MaxRPS != d.Chat.MaxRPS {
				t.Errorf("chat.max_rps %v, want the platform's default %v", c.Chat.MaxRPS, d.Chat.MaxRPS)
			}
			assertDefaultsShown(t, reflect.ValueOf(c.Chat.block()).Elem(), defaultBlock(platform))
		})
	}
}

// commentedChatSections finds the commented "# chat:" sections of the
// example and returns them uncommented, by platform.
func commentedChatSections(example string) map[string]string {
	sections := map[string]string{}
	var cur []string
	flush := func() {
		text := strings.Join(cur, "\n") + "\n"
		for _, line := range cur {
			if name, ok := strings.CutPrefix(strings.TrimSpace(line), "platform:"); ok {
				name, _, _ = strings.Cut(name, "#")
				sections[strings.TrimSpace(name)] = text
			}
		}
		cur = nil
	}
	for _, line := range strings.Split(example, "\n") {
		switch {
		case strings.HasPrefix(line, "# chat:"):
			flush()
			cur = []string{"chat:"}
		case cur != nil && strings.HasPrefix(line, "#  "):
			cur = append(cur, line[1:])
		case cur != nil:
			flush()
		}
	}
	return sections
}

// assertDefaultsShown checks that every field of a block whose default is
// not empty holds it.
func assertDefaultsShown(t *testing.T, got, def reflect.Value) {
	t.Helper()
	for i := range def.NumField() {
		if def.Field(i).IsZero() {
			continue
		}
		if !reflect.DeepEqual(got.Field(i).Interface(), def.Field(i).Interface()) {
			t.Errorf("%s: the example shows %v, the default is %v", def.Type().Field(i).Name, got.Field(i), def.Field(i))
		}
	}
}

// defaultBlock returns the block of platform holding its defaults.
func defaultBlock(platform string) reflect.Value {
	c := Default().Chat
	c.Platform = platform
	return reflect.ValueOf(c.block()).Elem()
}
