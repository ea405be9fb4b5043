package config

import (
	"strings"
	"testing"
)

func TestParse_Problems(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string // the full text of the one problem expected
	}{
		{
			name: "unknown key with did-you-mean",
			text: minimal + "  pasword: x\n",
			want: `acme.yaml:13: esm.pasword: unknown key (did you mean "esm.password"?)`,
		},
		{
			name: "unknown top-level key",
			text: minimal + "retries: 3\n",
			want: `acme.yaml:13: retries: unknown key`,
		},
		{
			name: "nested unknown key",
			text: minimal + "  attributes:\n    sesion_id: sid\n",
			want: `acme.yaml:14: esm.attributes.sesion_id: unknown key (did you mean "esm.attributes.session_id"?)`,
		},
		{
			name: "unknown key in a flow mapping",
			text: minimal + "  active_values:\n    active: {value: Yes, kode: yes}\n",
			want: `acme.yaml:14: esm.active_values.active.kode: unknown key (did you mean "esm.active_values.active.code"?)`,
		},
		{
			name: "key in the wrong section",
			text: minimal + "page_size: 100\n",
			want: `acme.yaml:13: page_size: unknown key (did you mean "chat.page_size"?)`,
		},
		{
			name: "key of two sections",
			text: minimal + "max_rps: 5\n",
			want: `acme.yaml:13: max_rps: unknown key (did you mean "chat.max_rps" or "esm.max_rps"?)`,
		},
		{
			name: "case typo",
			text: minimal + "Timezone: UTC\n",
			want: `acme.yaml:13: Timezone: unknown key (did you mean "timezone"?)`,
		},
		{
			name: "duplicate key",
			text: minimal + "tenant: other\n",
			want: `acme.yaml:13: tenant: key set twice (first on line 2)`,
		},
		{
			name: "merge key",
			text: minimal + "sync:\n  <<: {concurrency: 2}\n",
			want: `acme.yaml:14: sync: merge keys (<<) are not supported`,
		},
		{
			name: "int type error",
			text: minimal + "sync:\n  concurrency: many\n",
			want: `acme.yaml:14: sync.concurrency: want a whole number, got "many"`,
		},
		{
			name: "duration without unit",
			text: minimal + "sync:\n  max_active_age: 168\n",
			want: `acme.yaml:14: sync.max_active_age: want a duration such as "30s", "10m" or "168h", got "168"`,
		},
		{
			name: "duplicate section",
			text: minimal + "sync:\n  concurrency: 2\n" + "chat:\n  max_rps: 1\n",
			want: `acme.yaml:15: chat: key set twice (first on line 4)`,
		},
		{
			name: "float type error",
			text: strings.Replace(minimal, "  token:", "  max_rps: .nan\n  token:", 1),
			want: `acme.yaml:6: chat.max_rps: want a number, got ".nan"`,
		},
		{
			name: "bool type error",
			text: strings.Replace(minimal, "  template:", "  allow_insecure_http: sometimes\n  template:", 1),
			want: `acme.yaml:11: esm.allow_insecure_http: want true or false, got "sometimes"`,
		},
		{
			name: "list instead of a value",
			text: minimal + "timezone: [UTC]\n",
			want: `acme.yaml:13: timezone: want a string, got a list`,
		},
		{
			name: "value instead of a section",
			text: minimal + "sync: fast\n",
			want: `acme.yaml:13: sync: want a mapping of keys, got a single value`,
		},
		{
			name: "null attribute",
			text: minimal + "  attributes:\n    chat_log:\n",
			want: `acme.yaml:14: esm.attributes.chat_log: no value: write "" to disable the attribute, or remove the key to use the default`,
		},
		{
			name: "custom tag",
			text: minimal + "timezone: !zone UTC\n",
			want: `acme.yaml:13: timezone: unsupported YAML tag !zone`,
		},
		{
			name: "unset variable",
			text: minimal + "timezone: ${TENANT_TZ}\n",
			want: `acme.yaml:13: timezone: environment variable TENANT_TZ is not set`,
		},
		{
			name: "unterminated variable",
			text: minimal + "timezone: ${TENANT_TZ\n",
			want: `acme.yaml:13: timezone: unterminated ${ (write $$ for a literal $)`,
		},
		{
			name: "bad variable name",
			text: minimal + "timezone: ${TENANT-TZ}\n",
			want: `acme.yaml:13: timezone: bad variable name "TENANT-TZ" in ${...}: use letters, digits and _ (write $$ for a literal $)`,
		},
		{
			name: "type error in a value from the environment",
			text: minimal + "sync:\n  concurrency: ${ESM_PASSWORD}\n",
			want: `acme.yaml:14: sync.concurrency: want a whole number, got the value of ${ESM_PASSWORD}`,
		},
		{
			name: "schedule too often",
			text: strings.Replace(minimal, `schedule: "*/5 * * * *"`, `schedule: "*/2 * * * * *"`, 1),
			want: `acme.yaml:3: schedule: fires 2s after the fire before it; passes must be at least 10s apart ` +
				`(a pass of many sessions takes longer, and the APIs would be polled without pause)`,
		},
		{
			name: "syntax error",
			text: "tenant: acme\nschedule: [\n",
			want: `acme.yaml:2: invalid YAML: did not find expected node content`,
		},
		{
			name: "two documents",
			text: minimal + "---\ntenant: beta\n",
			want: `acme.yaml:13: more than one YAML document: one tenant per file`,
		},
		{
			name: "empty file",
			text: "# nothing yet\n",
			want: `acme.yaml: no settings in file`,
		},
		{
			name: "not a mapping",
			text: "- tenant: acme\n",
			want: `acme.yaml:1: want a mapping of keys, got a list`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems := parseProblems(t, tt.text, testEnv())
			if len(problems) != 1 || problems[0].String() != tt.want {
				t.Errorf("problems:\n%s\nwant:\n%s", (&ValidationError{problems}).Error(), tt.want)
			}
		})
	}
}

func TestParse_ReportsAllProblems(t *testing.T) {
	text := `
tenant: Acme
schedule: "* * *"
chat:
  base_url: ftp://chat.example.com
  page_size: 0
  tokn: x
esm:
  password: ${NOPE}
sync:
  concurrency: 0
`
	problems := parseProblems(t, text, testEnv())
	want := []string{
		`acme.yaml:7: chat.tokn: unknown key (did you mean "chat.token"?)`,
		`acme.yaml:9: esm.password: environment variable NOPE is not set`,
		`acme.yaml:2: tenant: "Acme": use only a-z, 0-9 and -`,
		`acme.yaml:3: schedule: want 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), got 3`,
		`acme.yaml:5: chat.base_url: want an absolute http:// or https:// URL with a host`,
		`acme.yaml: chat.token: required (or set chat.token_file)`,
		`acme.yaml:6: chat.page_size: must be from 1 to 1000, got 0`,
		`acme.yaml: esm.base_url: required`,
		`acme.yaml: esm.login: required`,
		`acme.yaml: esm.template: required`,
		`acme.yaml: esm.folder: required`,
		`acme.yaml:11: sync.concurrency: must be from 1 to 256, got 0`,
	}
	got := (&ValidationError{problems}).Error()
	if got != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

func TestParse_Expansion(t *testing.T) {
	tests := []struct {
		name string
		line string // appended to minimal
		env  []string
		get  func(*Config) string
		want string
	}{
		{"variable", "timezone: ${TZ_NAME}", []string{"TZ_NAME", "Europe/Helsinki"},
			func(c *Config) string { return c.Timezone }, "Europe/Helsinki"},
		{"inside a value", "state_path: /var/lib/${T}/${T}.db", []string{"T", "acme"},
			func(c *Config) string { return c.StatePath }, "/var/lib/acme/acme.db"},
		{"dollar escape", "state_path: ./cost$$/a$$b$${X}.db", nil,
			func(c *Config) string { return c.StatePath }, "./cost$/a$b${X}.db"},
		{"lone dollar kept", "state_path: ./a$b/c$", nil,
			func(c *Config) string { return c.StatePath }, "./a$b/c$"},
		{"expanded text not expanded again", "state_path: ${P}", []string{"P", "${CHAT_TOKEN}$$"},
			func(c *Config) string { return c.StatePath }, "${CHAT_TOKEN}$$"},
		{"set but empty variable", "state_path: x${EMPTY}.db", []string{"EMPTY", ""},
			func(c *Config) string { return c.StatePath }, "x.db"},
		{"yaml-special secret", "", nil,
			func(c *Config) string { return string(c.ESM.Password) }, esmPassword},
		{"quoted variable", `timezone: "${TZ_NAME}"`, []string{"TZ_NAME", "UTC"},
			func(c *Config) string { return c.Timezone }, "UTC"},
		{"number from the environment", "sync:\n  concurrency: ${N}", []string{"N", "16"},
			func(c *Config) string { return string(rune('0' + c.Sync.Concurrency/10)) }, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(strings.NewReader(minimal+tt.line+"\n"), "acme.yaml", testEnv(tt.env...))
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.get(c); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParse_LiteralSecrets(t *testing.T) {
	text := strings.Replace(minimal, "${ESM_PASSWORD}", "'hunter2'", 1)
	text = strings.Replace(text, "${CHAT_TOKEN}", "tok-${ESM_LOGIN}", 1)
	c := mustParse(t, text)
	if len(c.LiteralSecrets) != 1 || c.LiteralSecrets[0] != "esm.password" {
		t.Errorf("LiteralSecrets = %v, want [esm.password]", c.LiteralSecrets)
	}
}

func TestParse_SecretNeverQuoted(t *testing.T) {
	tests := []struct {
		name string
		text string
		env  []string
	}{
		{"secret in a number", minimal + "sync:\n  concurrency: ${ESM_PASSWORD}\n", nil},
		{"secret as a zone", minimal + "timezone: ${CHAT_TOKEN}\n", nil},
		{"secret as tenant", strings.Replace(minimal, "tenant: acme", "tenant: ${ESM_PASSWORD}", 1), nil},
		{"secret as a code", minimal + "  person:\n    template: ${CHAT_TOKEN}\n", nil},
		{"secret with a line break", minimal, []string{"ESM_PASSWORD", "ab\n" + esmPassword}},
		{"literal secret with bad ${", strings.Replace(minimal, "${ESM_PASSWORD}", `"ss #word${a b}"`, 1), nil},
		{"literal secret unterminated ${", strings.Replace(minimal, "${ESM_PASSWORD}", `"ss #word${"`, 1), nil},
		{"secret in a flow key", minimal + "  person: {password " + "T0ken}\n", nil},
		{"secret in a URL", strings.Replace(minimal, "https://chat.example.com", "https://u:${ESM_PASSWORD}@chat.example.com", 1), nil},
		{"secret in an http URL", strings.Replace(minimal, "https://chat.example.com", "http://u:${CHAT_TOKEN}@chat.example.com", 1), nil},
		{"empty secret", minimal, []string{"ESM_PASSWORD", ""}},
		{"secret and file", minimal + "  password_file: x\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parseProblems(t, tt.text, testEnv(tt.env...)) // checks the error text
		})
	}
}
