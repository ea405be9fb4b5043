package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// platformChat is the smallest valid chat section of each platform.
var platformChat = map[string]string{
	PlatformGeneric: `  base_url: https://chat.example.com/api/v1
  token: ${CHAT_TOKEN}
`,
	PlatformSuperOffice: `  platform: superoffice
  base_url: https://online.superoffice.com/Cust12345/api/v1
  token: ${CHAT_TOKEN}
`,
	PlatformGenesys: `  platform: genesys-cloud
  base_url: https://api.mypurecloud.ie
  client_id: 7de3af06-c0b3-4f9b-af45-72f4a1403797
  client_secret: ${CLIENT_SECRET}
`,
	PlatformCCAI: `  platform: ccai-platform
  base_url: https://acme.uc1.ccaiplatform.com/apps/api/v1
  token: ${CHAT_TOKEN}
  subdomain: acme
  transcripts_dir: /mnt/ccai/transcripts
`,
}

const esmSection = `esm:
  base_url: https://acme.efectecloud.com/rest-api/itsm/v1
  login: ${ESM_LOGIN}
  password: ${ESM_PASSWORD}
  template: chat_session
  folder: chat_sessions
`

// extraLine is the line of the first line platformFile adds.
const extraLine = 4

// platformFile is a valid tenant file on platform, with extra lines at the
// top of its chat section.
func platformFile(platform, extra string) string {
	return "tenant: acme\nschedule: \"*/5 * * * *\"\nchat:\n" + extra + platformChat[platform] + esmSection
}

func TestParse_PlatformKeys(t *testing.T) {
	tests := []struct {
		platform string
		extra    string
		get      func(c *ChatConfig) any
		want     any
	}{
		{PlatformSuperOffice, "  auth_scheme: SOTicket\n",
			func(c *ChatConfig) any { return c.SuperOffice.AuthScheme }, "SOTicket"},
		{PlatformSuperOffice, "  app_token: ${APP_TOKEN}\n",
			func(c *ChatConfig) any { return string(c.SuperOffice.AppToken) }, appToken},
		{PlatformSuperOffice, "  app_token_file: /run/secrets/so-app\n",
			func(c *ChatConfig) any { return c.SuperOffice.AppTokenFile }, "/run/secrets/so-app"},
		{PlatformSuperOffice, "  bot_names: [Efecte Bot, \"Bot, the\"]\n",
			func(c *ChatConfig) any { return c.SuperOffice.BotNames }, []string{"Efecte Bot", "Bot, the"}},
		{PlatformSuperOffice, "  bot_names:\n    - Efecte Bot\n",
			func(c *ChatConfig) any { return c.SuperOffice.BotNames }, []string{"Efecte Bot"}},
		{PlatformSuperOffice, "  reopen_grace: 1h\n",
			func(c *ChatConfig) any { return c.SuperOffice.ReopenGrace }, time.Hour},
		{PlatformSuperOffice, "  reopen_grace: 0s\n",
			func(c *ChatConfig) any { return c.SuperOffice.ReopenGrace }, time.Duration(0)},

		{PlatformGenesys, "", func(c *ChatConfig) any { return c.Genesys.ClientID }, "7de3af06-c0b3-4f9b-af45-72f4a1403797"},
		{PlatformGenesys, "", func(c *ChatConfig) any { return string(c.Genesys.ClientSecret) }, clientSecret},
		{PlatformGenesys, "  login_url: https://login.example.com/genesys\n",
			func(c *ChatConfig) any { return c.Genesys.LoginURL }, "https://login.example.com/genesys"},
		{PlatformGenesys, "  customer_email_attribute: context.email\n",
			func(c *ChatConfig) any { return c.Genesys.CustomerEmailAttribute }, "context.email"},
		{PlatformGenesys, "  message_types: [webmessaging, open]\n",
			func(c *ChatConfig) any { return c.Genesys.MessageTypes }, []string{"webmessaging", "open"}},

		{PlatformCCAI, "", func(c *ChatConfig) any { return c.CCAI.Subdomain }, "acme"},
		{PlatformCCAI, "", func(c *ChatConfig) any { return c.CCAI.TranscriptsDir }, "/mnt/ccai/transcripts"},
		{PlatformCCAI, "  events_secrets: [\"${EVENTS_SECRET}\"]\n",
			func(c *ChatConfig) any { return redactless(c.CCAI.EventsSecrets) }, []string{eventsSecret}},
		{PlatformCCAI, "  events_secrets:\n    - ${EVENTS_SECRET}\n    - ${NEXT_SECRET}\n",
			func(c *ChatConfig) any { return redactless(c.CCAI.EventsSecrets) }, []string{eventsSecret, eventsSecret2}},
		{PlatformCCAI, "  events_signature: hmac-sha256\n",
			func(c *ChatConfig) any { return c.CCAI.EventsSignature }, "hmac-sha256"},
		{PlatformCCAI, "  poll_after: 90s\n",
			func(c *ChatConfig) any { return c.CCAI.PollAfter }, 90 * time.Second},
		{PlatformCCAI, "  transcript_wait: 48h\n",
			func(c *ChatConfig) any { return c.CCAI.TranscriptWait }, 48 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.platform+"/"+strings.TrimSpace(tt.extra), func(t *testing.T) {
			c := mustParse(t, platformFile(tt.platform, tt.extra))
			if got := tt.get(&c.Chat); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

// redactless returns the values of secrets, for comparing.
func redactless(secrets []Secret) []string {
	out := make([]string, len(secrets))
	for i, s := range secrets {
		out[i] = string(s)
	}
	return out
}

// TestParse_PlatformKeyOnAnotherPlatform sets every key of every platform
// block on every other platform.
func TestParse_PlatformKeyOnAnotherPlatform(t *testing.T) {
	for _, f := range structFields(reflect.TypeFor[ChatConfig]()) {
		if f.platform == "" {
			continue
		}
		for _, platform := range Platforms {
			if platform == f.platform {
				continue
			}
			t.Run(f.name+"/"+platform, func(t *testing.T) {
				problems := parseProblems(t, platformFile(platform, "  "+f.name+": x\n"), testEnv())
				want := fmt.Sprintf("acme.yaml:%d: chat.%s: not a key of chat.platform %s (it belongs to %s)",
					extraLine, f.name, platform, f.platform)
				if len(problems) != 1 || problems[0].String() != want {
					t.Errorf("problems:\n%s\nwant:\n%s", (&ValidationError{problems}).Error(), want)
				}
			})
		}
	}
}

func TestParse_PlatformKeyProblems(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{
			name: "platform after the key",
			text: `
tenant: acme
schedule: "*/5 * * * *"
chat:
  base_url: https://online.superoffice.com/Cust12345/api/v1
  token: ${CHAT_TOKEN}
  bot_names: [Efecte Bot]
  reopen_grace: 1h
  client_id: x
  platform: superoffice
` + esmSection,
			want: []string{"acme.yaml:9: chat.client_id: not a key of chat.platform superoffice (it belongs to genesys-cloud)"},
		},
		{
			name: "misspelt key of the platform",
			text: platformFile(PlatformGenesys, "  client_secert_file: x\n"),
			want: []string{`acme.yaml:4: chat.client_secert_file: unknown key (did you mean "chat.client_secret_file"?)`},
		},
		{
			name: "misspelt key of another platform",
			text: platformFile(PlatformGeneric, "  bot_name: [x]\n"),
			want: []string{`acme.yaml:4: chat.bot_name: unknown key (did you mean "chat.bot_names", a key of chat.platform superoffice?)`},
		},
		{
			name: "platform key at the top level",
			text: platformFile(PlatformGeneric, "") + "subdomain: acme\n",
			want: []string{`acme.yaml:12: subdomain: unknown key (did you mean "chat.subdomain"?)`},
		},
		{
			name: "unknown platform",
			text: platformFile(PlatformGeneric, "  platform: zendesk\n  subdomain: acme\n"),
			want: []string{
				"acme.yaml:5: chat.subdomain: a key of chat.platform ccai-platform only",
				`acme.yaml:4: chat.platform: "zendesk" is not one of generic, superoffice, genesys-cloud, ccai-platform`,
			},
		},
		{
			name: "a list where a value belongs",
			text: platformFile(PlatformCCAI, "  poll_after: [1m]\n"),
			want: []string{"acme.yaml:4: chat.poll_after: want a duration, got a list"},
		},
		{
			name: "a value where a list belongs",
			text: platformFile(PlatformCCAI, "  events_secrets: ${EVENTS_SECRET}\n"),
			want: []string{"acme.yaml:4: chat.events_secrets: want a list of strings, got a single value"},
		},
		{
			name: "an empty list entry",
			text: platformFile(PlatformSuperOffice, "  bot_names:\n    - Bot\n    -\n"),
			want: []string{`acme.yaml:6: chat.bot_names[1]: empty entry: remove it, or write "" for an empty value`},
		},
		{
			name: "an unset variable in a list",
			text: platformFile(PlatformCCAI, "  events_secrets:\n    - ${NOPE}\n"),
			want: []string{"acme.yaml:5: chat.events_secrets[0]: environment variable NOPE is not set"},
		},
		{
			name: "a bad duration",
			text: platformFile(PlatformCCAI, "  poll_after: 10\n"),
			want: []string{`acme.yaml:4: chat.poll_after: want a duration such as "30s", "10m" or "168h", got "10"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems := parseProblems(t, tt.text, testEnv())
			got := (&ValidationError{problems}).Error()
			if got != strings.Join(tt.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", got, strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestParse_PlatformDefaults(t *testing.T) {
	tests := []struct {
		name, platform, extra string
		get                   func(c *ChatConfig) any
		want                  any
	}{
		{"generic max_rps", PlatformGeneric, "", func(c *ChatConfig) any { return c.MaxRPS }, 20.0},
		{"superoffice max_rps", PlatformSuperOffice, "", func(c *ChatConfig) any { return c.MaxRPS }, 20.0},
		{"auth_scheme", PlatformSuperOffice, "", func(c *ChatConfig) any { return c.SuperOffice.AuthScheme }, "Bearer"},
		{"app_token", PlatformSuperOffice, "", func(c *ChatConfig) any { return string(c.SuperOffice.AppToken) }, ""},
		{"bot_names", PlatformSuperOffice, "", func(c *ChatConfig) any { return c.SuperOffice.BotNames }, []string(nil)},
		{"reopen_grace", PlatformSuperOffice, "", func(c *ChatConfig) any { return c.SuperOffice.ReopenGrace }, 30 * time.Minute},
		{"empty reopen_grace", PlatformSuperOffice, "  reopen_grace:\n", func(c *ChatConfig) any { return c.SuperOffice.ReopenGrace }, 30 * time.Minute},

		{"genesys max_rps", PlatformGenesys, "", func(c *ChatConfig) any { return c.MaxRPS }, 5.0},
		{"genesys max_rps set", PlatformGenesys, "  max_rps: 2\n", func(c *ChatConfig) any { return c.MaxRPS }, 2.0},
		{"genesys max_rps 0", PlatformGenesys, "  max_rps: 0\n", func(c *ChatConfig) any { return c.MaxRPS }, 0.0},
		{"genesys max_rps empty", PlatformGenesys, "  max_rps:\n", func(c *ChatConfig) any { return c.MaxRPS }, 5.0},
		{"login_url", PlatformGenesys, "", func(c *ChatConfig) any { return c.Genesys.LoginURL }, "https://login.mypurecloud.ie"},
		{"login_url set", PlatformGenesys, "  login_url: https://sso.example.com\n",
			func(c *ChatConfig) any { return c.Genesys.LoginURL }, "https://sso.example.com"},
		{"message_types", PlatformGenesys, "", func(c *ChatConfig) any { return c.Genesys.MessageTypes }, []string{"webmessaging"}},
		{"empty message_types", PlatformGenesys, "  message_types:\n", func(c *ChatConfig) any { return c.Genesys.MessageTypes }, []string{"webmessaging"}},
		{"customer_email_attribute", PlatformGenesys, "", func(c *ChatConfig) any { return c.Genesys.CustomerEmailAttribute }, ""},

		{"ccai max_rps", PlatformCCAI, "", func(c *ChatConfig) any { return c.MaxRPS }, 8.0},
		{"ccai max_rps set", PlatformCCAI, "  max_rps: 20\n", func(c *ChatConfig) any { return c.MaxRPS }, 20.0},
		{"ccai max_rps from the environment", PlatformCCAI, "  max_rps: ${RPS}\n", func(c *ChatConfig) any { return c.MaxRPS }, 3.0},
		{"events_secrets", PlatformCCAI, "", func(c *ChatConfig) any { return c.CCAI.EventsSecrets }, []Secret(nil)},
		{"events_signature", PlatformCCAI, "", func(c *ChatConfig) any { return c.CCAI.EventsSignature }, "hmac-sha256"},
		{"poll_after", PlatformCCAI, "", func(c *ChatConfig) any { return c.CCAI.PollAfter }, 10 * time.Minute},
		{"transcript_wait", PlatformCCAI, "", func(c *ChatConfig) any { return c.CCAI.TranscriptWait }, 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(strings.NewReader(platformFile(tt.platform, tt.extra)), "acme.yaml", testEnv("RPS", "3"))
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.get(&c.Chat); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestGenesysLoginURL(t *testing.T) {
	tests := []struct{ base, want string }{
		{"https://api.mypurecloud.ie", "https://login.mypurecloud.ie"},
		{"https://api.usw2.pure.cloud/", "https://login.usw2.pure.cloud"},
		{"https://API.mypurecloud.com:8443/x", "https://login.mypurecloud.com:8443"},
		{"http://api.example.com", "https://login.example.com"},
		{"https://apis.example.com", ""},
		{"https://api./", ""},
		{"https://u:p@api.example.com", ""},
		{"http://127.0.0.1:8080/genesys", ""},
		{"%zz", ""},
	}
	for _, tt := range tests {
		got, ok := genesysLoginURL(tt.base)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("genesysLoginURL(%q) = %q, %v; want %q", tt.base, got, ok, tt.want)
		}
	}
}

func TestValidate_Platforms(t *testing.T) {
	tests := []struct {
		name     string
		platform string
		extra    string              // added at the top of the chat section
		edit     func(string) string // applied to the file, or nil
		key      string              // "" when the file is valid
		line     int                 // line of the problem
		msg      string              // the problem's message
	}{
		{name: "superoffice valid", platform: PlatformSuperOffice},
		{name: "superoffice everything", platform: PlatformSuperOffice,
			extra: "  auth_scheme: SOTicket\n  app_token: ${APP_TOKEN}\n  bot_names: [Bot]\n  reopen_grace: 0s\n"},
		{name: "auth_scheme lower case", platform: PlatformSuperOffice, extra: "  auth_scheme: bearer\n",
			key: "chat.auth_scheme", line: 4, msg: `"bearer" is not one of Bearer, SOTicket`},
		{name: "superoffice token required", platform: PlatformSuperOffice, edit: dropLine("  token: ${CHAT_TOKEN}\n"),
			key: "chat.token", msg: "required (or set chat.token_file)"},
		{name: "superoffice token file", platform: PlatformSuperOffice, edit: swapLine("  token: ${CHAT_TOKEN}\n", "  token_file: /run/t\n")},
		{name: "app_token and its file", platform: PlatformSuperOffice, extra: "  app_token: ${APP_TOKEN}\n  app_token_file: /run/so\n",
			key: "chat.app_token_file", line: 5, msg: "set only one of chat.app_token and chat.app_token_file"},
		{name: "app_token from an empty variable", platform: PlatformSuperOffice, extra: "  app_token: ${EMPTY}\n",
			key: "chat.app_token", line: 4, msg: "${EMPTY} is empty: set it, or remove chat.app_token"},
		{name: "app_token with a line break", platform: PlatformSuperOffice, extra: "  app_token: \"a\\nb\"\n",
			key: "chat.app_token", line: 4, msg: "contains control characters (a line break?)"},
		{name: "empty bot name", platform: PlatformSuperOffice, extra: "  bot_names: [Bot, \"\"]\n",
			key: "chat.bot_names[1]", line: 4, msg: "required"},
		{name: "bot name with a tab", platform: PlatformSuperOffice, extra: "  bot_names: [\"a\\tb\"]\n",
			key: "chat.bot_names[0]", line: 4, msg: "contains control characters"},
		{name: "negative reopen_grace", platform: PlatformSuperOffice, extra: "  reopen_grace: -1m\n",
			key: "chat.reopen_grace", line: 4, msg: "must be 0 (no grace) or more, got -1m0s"},

		{name: "genesys valid", platform: PlatformGenesys},
		{name: "genesys everything", platform: PlatformGenesys,
			extra: "  login_url: https://login.example.com\n  customer_email_attribute: email\n  message_types: [webmessaging, open]\n  max_rps: 1\n"},
		{name: "client_id required", platform: PlatformGenesys, edit: dropLine("  client_id: 7de3af06-c0b3-4f9b-af45-72f4a1403797\n"),
			key: "chat.client_id", msg: "required"},
		{name: "client_secret required", platform: PlatformGenesys, edit: dropLine("  client_secret: ${CLIENT_SECRET}\n"),
			key: "chat.client_secret", msg: "required (or set chat.client_secret_file)"},
		{name: "client_secret file", platform: PlatformGenesys,
			edit: swapLine("  client_secret: ${CLIENT_SECRET}\n", "  client_secret_file: /run/gc\n")},
		{name: "client_secret and its file", platform: PlatformGenesys, extra: "  client_secret_file: /run/gc\n",
			key: "chat.client_secret_file", line: 4, msg: "set only one of chat.client_secret and chat.client_secret_file"},
		{name: "client_secret from an empty variable", platform: PlatformGenesys,
			edit: swapLine("${CLIENT_SECRET}", "${EMPTY}"), key: "chat.client_secret", line: 7, msg: "required, but ${EMPTY} is empty"},
		{name: "genesys token", platform: PlatformGenesys, extra: "  token: ${CHAT_TOKEN}\n",
			key: "chat.token", line: 4, msg: "not used by chat.platform genesys-cloud: it signs in with chat.client_id and chat.client_secret"},
		{name: "genesys token_file", platform: PlatformGenesys, extra: "  token_file: /run/t\n",
			key: "chat.token_file", line: 4, msg: "not used by chat.platform genesys-cloud: it signs in with chat.client_id and chat.client_secret"},
		{name: "login host not derivable", platform: PlatformGenesys,
			edit: swapLine("https://api.mypurecloud.ie", "http://127.0.0.1:8080/genesys"),
			key:  "chat.login_url", msg: `required: the host of chat.base_url does not start with "api.", so the login host cannot be derived from it`},
		{name: "login_url for a sandbox", platform: PlatformGenesys, extra: "  login_url: http://127.0.0.1:8080/login\n",
			edit: swapLine("https://api.mypurecloud.ie", "http://127.0.0.1:8080/genesys")},
		{name: "login_url over plain http", platform: PlatformGenesys, extra: "  login_url: http://login.example.com\n",
			key: "chat.login_url", line: 4, msg: "plain http:// to a host other than this machine would send credentials unencrypted: use https://, or set chat.allow_insecure_http: true"},
		{name: "login_url relative", platform: PlatformGenesys, extra: "  login_url: /oauth\n",
			key: "chat.login_url", line: 4, msg: "want an absolute http:// or https:// URL with a host"},
		{name: "no message types", platform: PlatformGenesys, extra: "  message_types: []\n",
			key: "chat.message_types", line: 4, msg: "want at least one message type, such as webmessaging"},
		{name: "bad message type", platform: PlatformGenesys, extra: "  message_types: [web messaging]\n",
			key: "chat.message_types[0]", line: 4, msg: `"web messaging": a message type holds only letters, digits, _ and -`},
		{name: "customer_email_attribute with a line break", platform: PlatformGenesys, extra: "  customer_email_attribute: \"a\\nb\"\n",
			key: "chat.customer_email_attribute", line: 4, msg: "contains control characters"},
		{name: "genesys max_rps negative", platform: PlatformGenesys, extra: "  max_rps: -1\n",
			key: "chat.max_rps", line: 4, msg: "must be 0 (no limit) or more, got -1"},

		{name: "ccai valid", platform: PlatformCCAI},
		{name: "ccai everything", platform: PlatformCCAI,
			extra: "  events_secrets: [\"${EVENTS_SECRET}\", \"${NEXT_SECRET}\"]\n  events_signature: hmac-sha256\n  poll_after: 1m\n  transcript_wait: 1h\n"},
		{name: "ccai token required", platform: PlatformCCAI, edit: dropLine("  token: ${CHAT_TOKEN}\n"),
			key: "chat.token", msg: "required (or set chat.token_file)"},
		{name: "subdomain required", platform: PlatformCCAI, edit: dropLine("  subdomain: acme\n"),
			key: "chat.subdomain", msg: "required"},
		{name: "subdomain with a dot", platform: PlatformCCAI, edit: swapLine("subdomain: acme", "subdomain: acme.uc1"),
			key: "chat.subdomain", line: 7, msg: `"acme.uc1": a subdomain is one label of a host name: letters, digits and -`},
		{name: "transcripts_dir required", platform: PlatformCCAI, edit: dropLine("  transcripts_dir: /mnt/ccai/transcripts\n"),
			key: "chat.transcripts_dir", msg: "required"},
		{name: "transcripts_dir from an empty variable", platform: PlatformCCAI, edit: swapLine("/mnt/ccai/transcripts", "${EMPTY}"),
			key: "chat.transcripts_dir", line: 8, msg: "required, but ${EMPTY} is empty"},
		{name: "one events secret", platform: PlatformCCAI, extra: "  events_secrets:\n    - ${EVENTS_SECRET}\n"},
		{name: "three events secrets", platform: PlatformCCAI, extra: "  events_secrets: [a, b, c]\n",
			key: "chat.events_secrets", line: 4, msg: "want 1 secret, or 2 while rotating, got 3"},
		{name: "no events secrets", platform: PlatformCCAI, extra: "  events_secrets: []\n",
			key: "chat.events_secrets", line: 4, msg: "want 1 secret, or 2 while rotating, got 0"},
		{name: "empty events secret", platform: PlatformCCAI, extra: "  events_secrets:\n    - a\n    - \"\"\n",
			key: "chat.events_secrets[1]", line: 6, msg: "empty"},
		{name: "events secret from an empty variable", platform: PlatformCCAI, extra: "  events_secrets:\n    - ${EMPTY}\n",
			key: "chat.events_secrets[0]", line: 5, msg: "empty, because ${EMPTY} is empty"},
		{name: "events secret with a line break", platform: PlatformCCAI, extra: "  events_secrets: [\"a\\r\"]\n",
			key: "chat.events_secrets[0]", line: 4, msg: "contains control characters (a line break?)"},
		{name: "unknown events_signature", platform: PlatformCCAI, extra: "  events_signature: sha1\n",
			key: "chat.events_signature", line: 4, msg: `"sha1" is not one of hmac-sha256`},
		{name: "poll_after 0", platform: PlatformCCAI, extra: "  poll_after: 0s\n",
			key: "chat.poll_after", line: 4, msg: "must be a positive duration, got 0s"},
		{name: "transcript_wait negative", platform: PlatformCCAI, extra: "  transcript_wait: -1h\n",
			key: "chat.transcript_wait", line: 4, msg: "must be a positive duration, got -1h0m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := platformFile(tt.platform, tt.extra)
			if tt.edit != nil {
				text = tt.edit(text)
			}
			c, err := Parse(strings.NewReader(text), "acme.yaml", testEnv("EMPTY", ""))
			if tt.key == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Parse = %v, %v; want a *ValidationError", c, err)
			}
			assertNoSecrets(t, err.Error())
			p := findProblem(t, verr.Problems, tt.key)
			if p.File != "acme.yaml" || p.Line != tt.line || p.Message != tt.msg {
				t.Errorf("problem %q, want line %d and message %q", p, tt.line, tt.msg)
			}
		})
	}
}

func dropLine(line string) func(string) string { return swapLine(line, "") }

func swapLine(old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic("no " + old + " in the file")
		}
		return strings.Replace(s, old, new, 1)
	}
}

// platformSecrets is a file of each platform with every secret it has.
var platformSecrets = map[string]string{
	PlatformGeneric:     platformFile(PlatformGeneric, ""),
	PlatformSuperOffice: platformFile(PlatformSuperOffice, "  app_token: ${APP_TOKEN}\n"),
	PlatformGenesys:     platformFile(PlatformGenesys, ""),
	PlatformCCAI:        platformFile(PlatformCCAI, "  events_secrets: [\"${EVENTS_SECRET}\", \"${NEXT_SECRET}\"]\n"),
}

func TestConfig_RedactsPlatformSecrets(t *testing.T) {
	for _, platform := range Platforms {
		t.Run(platform, func(t *testing.T) {
			c := mustParse(t, platformSecrets[platform])
			var logged bytes.Buffer
			slog.New(slog.NewJSONHandler(&logged, nil)).Info("loaded", "config", c)
			slog.New(slog.NewTextHandler(&logged, nil)).Info("loaded", "config", c, "chat", c.Chat)
			asJSON, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			renderings := map[string]string{
				"Sprint":   fmt.Sprint(c),
				"%v":       fmt.Sprintf("%v", *c),
				"%+v":      fmt.Sprintf("%+v", *c),
				"%#v":      fmt.Sprintf("%#v", c),
				"%#v chat": fmt.Sprintf("%#v", c.Chat),
				"%v chat":  fmt.Sprintf("%v", c.Chat),
				"slog":     logged.String(),
				"json":     string(asJSON),
			}
			for name, s := range renderings {
				assertNoSecrets(t, s)
				if !strings.Contains(s, "redacted") {
					t.Errorf("%s: no [redacted] marker in %q", name, s)
				}
			}
			// Each of the platform's secrets is named, redacted.
			json := logJSON(c)
			for _, key := range secretKeys(platform) {
				short := strings.TrimPrefix(key, "chat.")
				if !strings.Contains(c.String(), key+"=[redacted]") && !strings.Contains(c.String(), key+"=[[redacted]") {
					t.Errorf("String does not show %s redacted: %s", key, c)
				}
				if !strings.Contains(json, `"`+short+`":"[redacted]"`) && !strings.Contains(json, `"`+short+`":["[redacted]"`) {
					t.Errorf("LogValue does not show %s redacted: %s", key, json)
				}
			}
		})
	}
}

// secretKeys lists the keys of the secrets of platform's block.
func secretKeys(platform string) []string {
	var keys []string
	for _, f := range structFields(reflect.TypeFor[ChatConfig]()) {
		ft := reflect.TypeFor[ChatConfig]().FieldByIndex(f.index).Type
		if f.platform == platform && (ft == secretType || ft.Kind() == reflect.Slice && ft.Elem() == secretType) {
			keys = append(keys, "chat."+f.name)
		}
	}
	return keys
}

func TestConfig_LogValueShowsTheChosenBlock(t *testing.T) {
	c := mustParse(t, platformFile(PlatformGenesys, "  message_types: [webmessaging, open]\n"))
	got := logJSON(c)
	for _, want := range []string{`"platform":"genesys-cloud"`, `"client_id":"7de3af06-c0b3-4f9b-af45-72f4a1403797"`,
		`"client_secret":"[redacted]"`, `"login_url":"https://login.mypurecloud.ie"`, `"message_types":["webmessaging","open"]`,
		`"max_rps":5`} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %s: %s", want, got)
		}
	}
	if strings.Contains(got, "auth_scheme") || strings.Contains(got, "events_signature") {
		t.Errorf("log shows the blocks of other platforms: %s", got)
	}
}

func TestParse_PlatformLiteralSecrets(t *testing.T) {
	tests := []struct {
		platform, extra string
		edit            func(string) string
		want            []string
	}{
		{PlatformSuperOffice, "  app_token: literal\n", nil, []string{"chat.app_token"}},
		{PlatformSuperOffice, "  app_token: ${APP_TOKEN}\n", nil, nil},
		{PlatformGenesys, "", swapLine("${CLIENT_SECRET}", "literal"), []string{"chat.client_secret"}},
		{PlatformCCAI, "  events_secrets: [\"${EVENTS_SECRET}\", literal]\n", nil, []string{"chat.events_secrets[1]"}},
	}
	for _, tt := range tests {
		t.Run(tt.platform+"/"+strings.TrimSpace(tt.extra), func(t *testing.T) {
			text := platformFile(tt.platform, tt.extra)
			if tt.edit != nil {
				text = tt.edit(text)
			}
			if got := mustParse(t, text).LiteralSecrets; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("LiteralSecrets = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestChatConfig_ReadFiles(t *testing.T) {
	dir := t.TempDir()
	secret := writeFile(t, filepath.Join(dir, "secret"), clientSecret+"\n")
	empty := writeFile(t, filepath.Join(dir, "empty"), "")
	tests := []struct {
		name, platform, extra string
		edit                  func(string) string
		get                   func(*ChatConfig) Secret
		problem               string
	}{
		{name: "app_token_file", platform: PlatformSuperOffice, extra: "  app_token_file: " + secret + "\n",
			get: func(c *ChatConfig) Secret { return c.SuperOffice.AppToken }},
		{name: "client_secret_file", platform: PlatformGenesys,
			edit: swapLine("  client_secret: ${CLIENT_SECRET}\n", "  client_secret_file: "+secret+"\n"),
			get:  func(c *ChatConfig) Secret { return c.Genesys.ClientSecret }},
		{name: "empty client_secret_file", platform: PlatformGenesys,
			edit:    swapLine("  client_secret: ${CLIENT_SECRET}\n", "  client_secret_file: "+empty+"\n"),
			problem: "acme.yaml:7: chat.client_secret_file: file " + empty + " is empty"},
		{name: "missing app_token_file", platform: PlatformSuperOffice, extra: "  app_token_file: " + dir + "/nope\n",
			problem: "acme.yaml:4: chat.app_token_file: open " + dir + "/nope: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := platformFile(tt.platform, tt.extra)
			if tt.edit != nil {
				text = tt.edit(text)
			}
			c := mustParse(t, text)
			v := &validator{c: c}
			c.Chat.readFiles(v)
			err := v.err()
			switch {
			case tt.problem != "":
				if err == nil || err.Error() != tt.problem {
					t.Errorf("error %v, want %q", err, tt.problem)
				}
			case err != nil:
				t.Fatal(err)
			case string(tt.get(&c.Chat)) != clientSecret:
				t.Errorf("secret not read from the file")
			}
		})
	}
}

// TestChatConfig_Blocks guards the rules that make a platform one struct
// and one field.
func TestChatConfig_Blocks(t *testing.T) {
	if want := []string{"generic", "superoffice", "genesys-cloud", "ccai-platform"}; !slices.Equal(Platforms, want) {
		t.Errorf("Platforms = %v, want %v", Platforms, want)
	}
	typ := reflect.TypeFor[ChatConfig]()
	blockType := reflect.TypeFor[platformBlock]()
	common := map[string]bool{}
	for _, f := range structFields(typ) {
		if f.platform == "" {
			common[f.name] = true
		}
	}
	for i := range typ.NumField() {
		f := typ.Field(i)
		platform := f.Tag.Get("platform")
		if platform == "" {
			continue
		}
		if !reflect.PointerTo(f.Type).Implements(blockType) {
			t.Errorf("%s (%s) does not implement platformBlock", f.Name, f.Type)
		}
		c := ChatConfig{Platform: platform}
		if c.block() == nil {
			t.Errorf("no block for %s", platform)
		}
		for _, inner := range structFields(f.Type) {
			if common[inner.name] {
				t.Errorf("chat.%s of %s hides the common key", inner.name, platform)
			}
		}
	}
	if (&ChatConfig{Platform: PlatformGeneric}).block() != nil {
		t.Error("generic has a block")
	}
}

// TestValidate_GenesysWithoutParse: a Config built in code must set
// chat.login_url, which Parse would have derived.
func TestValidate_GenesysWithoutParse(t *testing.T) {
	c := mustParse(t, platformFile(PlatformGenesys, ""))
	c.Chat.Genesys.LoginURL = ""
	var verr *ValidationError
	if err := c.Validate(); !errors.As(err, &verr) {
		t.Fatalf("Validate = %v", err)
	}
	if p := findProblem(t, verr.Problems, "chat.login_url"); p.Message != "required" {
		t.Errorf("problem %q", p)
	}
}
