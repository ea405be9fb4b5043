package config

import (
	"reflect"
	"strings"
	"testing"
)

// gated is a section with two platform blocks that share a key.
type gated struct {
	Platform string     `yaml:"platform"`
	Common   string     `yaml:"common"`
	So       gatedSO    `yaml:",inline" platform:"superoffice"`
	Genesys  gatedCloud `yaml:",inline" platform:"genesys-cloud"`
	CCAI     gatedCloud `yaml:",inline" platform:"ccai-platform"`

	defaulted string // set by setDefaults
}

type gatedSO struct {
	Names []string `yaml:"names"`
}

type gatedCloud struct {
	ClientID string `yaml:"client_id"`
}

func (g *gated) setDefaults(set func(string) bool) {
	g.defaulted = g.Platform
	if set("common") {
		g.defaulted += "+common"
	}
}

type gatedRoot struct {
	Chat gated `yaml:"chat"`
}

func decodeGated(t *testing.T, text string) (gated, []string) {
	t.Helper()
	root, p := readYAML(strings.NewReader(text), "acme.yaml")
	if p != nil {
		t.Fatal(p)
	}
	r := gatedRoot{Chat: gated{Platform: "generic"}}
	d := newDecoder("acme.yaml", testEnv("P", "superoffice", "BAD", "zendesk"))
	d.decodeStruct(root, reflect.ValueOf(&r).Elem(), "")
	var problems []string
	for _, p := range d.problems {
		problems = append(problems, p.String())
	}
	return r.Chat, problems
}

func TestDecode_PlatformBlocks(t *testing.T) {
	tests := []struct {
		name      string
		text      string
		want      gated
		problems  []string
		defaulted string
	}{
		{
			name: "platform after its keys",
			text: "chat:\n  names: [a]\n  platform: superoffice\n",
			want: gated{Platform: "superoffice", So: gatedSO{Names: []string{"a"}}},
		},
		{
			name: "a key two platforms share",
			text: "chat:\n  client_id: x\n  platform: ccai-platform\n",
			want: gated{Platform: "ccai-platform", CCAI: gatedCloud{ClientID: "x"}},
		},
		{
			name:     "key of another platform",
			text:     "chat:\n  platform: superoffice\n  client_id: x\n",
			want:     gated{Platform: "superoffice"},
			problems: []string{"acme.yaml:3: chat.client_id: not a key of chat.platform superoffice (it belongs to ccai-platform or genesys-cloud)"},
		},
		{
			name:     "platform block of the default platform",
			text:     "chat:\n  names: [a]\n",
			want:     gated{Platform: "generic"},
			problems: []string{"acme.yaml:2: chat.names: not a key of chat.platform generic (it belongs to superoffice)"},
		},
		{
			name: "platform from the environment",
			text: "chat:\n  names: [a]\n  platform: ${P}\n",
			want: gated{Platform: "superoffice", So: gatedSO{Names: []string{"a"}}},
		},
		{
			name:     "unknown platform",
			text:     "chat:\n  names: [a]\n  platform: ${BAD}\n",
			want:     gated{Platform: "zendesk"},
			problems: []string{"acme.yaml:2: chat.names: a key of chat.platform superoffice only"},
		},
		{
			name:     "unreadable platform opens every block",
			text:     "chat:\n  names: [a]\n  platform: ${UNSET}\n",
			want:     gated{Platform: "generic", So: gatedSO{Names: []string{"a"}}},
			problems: []string{"acme.yaml:3: chat.platform: environment variable UNSET is not set"},
		},
		{
			name:     "null platform keeps the default",
			text:     "chat:\n  platform:\n  client_id: x\n",
			want:     gated{Platform: "generic"},
			problems: []string{"acme.yaml:3: chat.client_id: not a key of chat.platform generic (it belongs to ccai-platform or genesys-cloud)"},
		},
		{
			name:     "the first of two platform keys counts",
			text:     "chat:\n  platform: superoffice\n  names: [a]\n  platform: genesys-cloud\n",
			want:     gated{Platform: "superoffice", So: gatedSO{Names: []string{"a"}}},
			problems: []string{"acme.yaml:4: chat.platform: key set twice (first on line 2)"},
		},
		{
			name:     "typo of the chosen platform's key",
			text:     "chat:\n  platform: genesys-cloud\n  client_ide: x\n",
			want:     gated{Platform: "genesys-cloud"},
			problems: []string{`acme.yaml:3: chat.client_ide: unknown key (did you mean "chat.client_id"?)`},
		},
		{
			name:     "typo of another platform's key",
			text:     "chat:\n  nams: [a]\n",
			want:     gated{Platform: "generic"},
			problems: []string{`acme.yaml:2: chat.nams: unknown key (did you mean "chat.names", a key of chat.platform superoffice?)`},
		},
		{
			name:      "defaults after the section",
			text:      "chat:\n  common: x\n  platform: superoffice\n",
			want:      gated{Platform: "superoffice", Common: "x"},
			defaulted: "superoffice+common",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := decodeGated(t, tt.text)
			if strings.Join(problems, "\n") != strings.Join(tt.problems, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(problems, "\n"), strings.Join(tt.problems, "\n"))
			}
			if tt.defaulted != "" && got.defaulted != tt.defaulted {
				t.Errorf("setDefaults saw %q, want %q", got.defaulted, tt.defaulted)
			}
			got.defaulted = ""
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestStructFields_Inline(t *testing.T) {
	var got []string
	for _, f := range structFields(reflect.TypeFor[gated]()) {
		got = append(got, f.name+"@"+f.platform)
	}
	want := "platform@ common@ names@superoffice client_id@genesys-cloud client_id@ccai-platform"
	if strings.Join(got, " ") != want {
		t.Errorf("got %s, want %s", strings.Join(got, " "), want)
	}
}
