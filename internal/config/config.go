// Package config reads and validates the per-tenant YAML configuration of
// SPEC §3.
//
// A Config is plain data. Parse decodes one tenant file from a reader,
// expanding ${VAR} from an injected environment and rejecting unknown keys
// with the file name and line; Validate checks every rule and reports all
// problems at once. Load and LoadAll read files and directories, and read
// the secret files a config refers to; LoadEach does the same but keeps the
// good configs when some files are bad. Turning a Config into clients is
// the job of cmd/syncworker.
//
// Relative paths (state_path, the *_file secrets, the CA files,
// chat.transcripts_dir) are relative to the working directory of the
// process, not to the directory of the config file, the same as paths
// given on the command line.
package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Defaults of SPEC §3, and of the keys syncworker adds to it.
const (
	DefaultTimezone        = "UTC"
	DefaultPlatform        = "generic"
	DefaultPageSize        = 200
	DefaultChatMaxRPS      = 20
	DefaultESMMaxRPS       = 10
	DefaultTimeout         = 30 * time.Second
	DefaultConcurrency     = 8
	DefaultMaxActiveAge    = 168 * time.Hour
	DefaultChatLogMaxChars = 0
	DefaultPassTimeout     = 10 * time.Minute
	DefaultRefreshAfter    = 15 * time.Minute
	DefaultChangeMargin    = time.Minute
	DefaultUnresolvedTTL   = 5 * time.Minute
	DefaultPersonTemplate  = "person"
	DefaultMatchAttribute  = "email"
	DefaultDiscovery       = DiscoveryStream
)

// Values of esm.discovery: how a pass finds the active cards.
const (
	// DiscoveryStream reads them from ESM's data stream in one answer,
	// falling back to pages when ESM does not serve it.
	DiscoveryStream = "stream"
	// DiscoveryPages lists them page by page with filterId.
	DiscoveryPages = "pages"
)

// DefaultStatePath returns the state file used when state_path is not set:
// ./state/<tenant>.db, relative to the working directory.
func DefaultStatePath(tenant string) string {
	return "./state/" + tenant + ".db"
}

// Config is the configuration of one tenant: one YAML file.
type Config struct {
	Tenant    string     `yaml:"tenant"`
	Schedule  string     `yaml:"schedule"`
	Timezone  string     `yaml:"timezone"`
	StatePath string     `yaml:"state_path"`
	Chat      ChatConfig `yaml:"chat"`
	ESM       ESMConfig  `yaml:"esm"`
	Sync      SyncConfig `yaml:"sync"`

	// File is the name the config was read from, as given to Parse.
	File string `yaml:"-"`

	// Location is Timezone loaded; set by Parse.
	Location *time.Location `yaml:"-"`

	// ScheduleSeconds reports that Schedule has six fields, the first being
	// seconds; the scheduler must then be told to parse seconds.
	ScheduleSeconds bool `yaml:"-"`

	// ScheduleLocation is the zone named by a CRON_TZ= or TZ= prefix of
	// Schedule, or nil when there is none (the scheduler's own zone applies).
	ScheduleLocation *time.Location `yaml:"-"`

	// LiteralSecrets lists the keys ("chat.token", "esm.password",
	// "chat.events_secrets[0]") whose secret is written in the file itself
	// rather than taken from ${VAR} or a *_file, so that `check` can warn
	// when the file is readable by others.
	LiteralSecrets []string `yaml:"-"`

	// SecretFiles maps each *_file key whose secret was read ("chat.token_file",
	// "esm.password_file", a platform's own) to the file it names, so that
	// `check` can warn when others can read one.
	SecretFiles map[string]string `yaml:"-"`

	// schedule is Schedule parsed; nil when it does not parse.
	schedule cron.Schedule

	// lines maps a key path ("esm.timeout") to the line it was set on;
	// fromEnv maps the keys whose value came through ${VAR} to the variable:
	// such a value may be a secret and is never quoted in an error.
	lines   map[string]int
	fromEnv map[string]string
}

// ChatConfig is the tenant's chat platform (SPEC §4.1, §4.3): the keys
// every platform has, and one block per platform. A block's keys sit in
// the chat section beside the common ones, and the file may set them only
// when chat.platform names the block's platform; the other blocks keep
// their defaults.
type ChatConfig struct {
	// Platform chooses the source adapter: one of Platforms.
	Platform  string `yaml:"platform"`
	BaseURL   string `yaml:"base_url"`
	Token     Secret `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	CAFile    string `yaml:"ca_file"`
	// AllowInsecureHTTP allows plain http:// to hosts other than this
	// machine, for chat.base_url and chat.login_url.
	AllowInsecureHTTP bool          `yaml:"allow_insecure_http"`
	PageSize          int           `yaml:"page_size"`
	MaxRPS            float64       `yaml:"max_rps"`
	Timeout           time.Duration `yaml:"timeout"`

	SuperOffice SuperOfficeConfig `yaml:",inline" platform:"superoffice"`
	Genesys     GenesysConfig     `yaml:",inline" platform:"genesys-cloud"`
	CCAI        CCAIConfig        `yaml:",inline" platform:"ccai-platform"`
}

// ESMConfig is the Efecte ESM REST API of SPEC §4.2 and the card layout.
type ESMConfig struct {
	BaseURL           string        `yaml:"base_url"`
	Login             string        `yaml:"login"`
	Password          Secret        `yaml:"password"`
	PasswordFile      string        `yaml:"password_file"`
	CAFile            string        `yaml:"ca_file"`
	AllowInsecureHTTP bool          `yaml:"allow_insecure_http"`
	Template          string        `yaml:"template"`
	Folder            string        `yaml:"folder"`
	MaxRPS            float64       `yaml:"max_rps"`
	Timeout           time.Duration `yaml:"timeout"`
	Discovery         string        `yaml:"discovery"` // DiscoveryStream or DiscoveryPages
	Attributes        Attributes    `yaml:"attributes"`
	ActiveValues      ActiveValues  `yaml:"active_values"`
	Person            PersonConfig  `yaml:"person"`
}

// Attributes holds the attribute codes of the chat-session template.
// An empty code means the attribute is not written.
type Attributes struct {
	SessionID      string `yaml:"session_id"`
	ChatLog        string `yaml:"chat_log"`
	MessageCount   string `yaml:"message_count"`
	Members        string `yaml:"members"`
	SupportPerson  string `yaml:"support_person"`
	Customer       string `yaml:"customer"`
	StartTime      string `yaml:"start_time"`
	EndTime        string `yaml:"end_time"`
	FirstReplyWait string `yaml:"first_reply_wait"`
	Active         string `yaml:"active"`
}

// ActiveValues are the two entries of the "Is chat active?" static menu.
type ActiveValues struct {
	Active   MenuValue `yaml:"active"`
	Inactive MenuValue `yaml:"inactive"`
}

// MenuValue is one static menu entry: display value and code.
type MenuValue struct {
	Value string `yaml:"value"`
	Code  string `yaml:"code"`
}

// PersonConfig says how people are found as person cards.
type PersonConfig struct {
	Template       string `yaml:"template"`
	MatchAttribute string `yaml:"match_attribute"`
	// UnresolvedTTL is how long "no Person card for this email" is
	// believed before ESM is asked again.
	UnresolvedTTL time.Duration `yaml:"unresolved_ttl"`
}

// SyncConfig tunes a sync pass.
type SyncConfig struct {
	Concurrency     int           `yaml:"concurrency"`
	MaxActiveAge    time.Duration `yaml:"max_active_age"`
	ChatLogMaxChars int           `yaml:"chat_log_max_chars"`
	PassTimeout     time.Duration `yaml:"pass_timeout"`
	// RefreshAfter is the longest a tracked active session goes without
	// being fetched, whatever the platform's change listing says.
	RefreshAfter time.Duration `yaml:"refresh_after"`
	// ChangeMargin allows for the platform's timestamp granularity and
	// clock skew: a session is skipped only when its updated_at is at
	// least this much older than the fetch that stored it.
	ChangeMargin time.Duration `yaml:"change_margin"`
}

// Default returns a Config holding every default. Tenant, schedule, the
// URLs, the credentials, template and folder have none; state_path gets its
// default from the tenant when Parse finishes, and the defaults that depend
// on chat.platform (chat.max_rps, chat.login_url) when Parse has read the
// chat section.
func Default() *Config {
	superOffice, genesys, ccai := defaultBlocks()
	return &Config{
		Timezone: DefaultTimezone,
		Chat: ChatConfig{
			Platform:    DefaultPlatform,
			PageSize:    DefaultPageSize,
			MaxRPS:      DefaultChatMaxRPS,
			Timeout:     DefaultTimeout,
			SuperOffice: superOffice,
			Genesys:     genesys,
			CCAI:        ccai,
		},
		ESM: ESMConfig{
			MaxRPS:       DefaultESMMaxRPS,
			Timeout:      DefaultTimeout,
			Discovery:    DefaultDiscovery,
			Attributes:   DefaultAttributes(),
			ActiveValues: DefaultActiveValues(),
			Person: PersonConfig{
				Template:       DefaultPersonTemplate,
				MatchAttribute: DefaultMatchAttribute,
				UnresolvedTTL:  DefaultUnresolvedTTL,
			},
		},
		Sync: SyncConfig{
			Concurrency:     DefaultConcurrency,
			MaxActiveAge:    DefaultMaxActiveAge,
			ChatLogMaxChars: DefaultChatLogMaxChars,
			PassTimeout:     DefaultPassTimeout,
			RefreshAfter:    DefaultRefreshAfter,
			ChangeMargin:    DefaultChangeMargin,
		},
	}
}

// DefaultAttributes returns the attribute codes of SPEC §3.
func DefaultAttributes() Attributes {
	return Attributes{
		SessionID:      "chat_session_id",
		ChatLog:        "chat_log",
		MessageCount:   "message_count",
		Members:        "members",
		SupportPerson:  "support_person",
		Customer:       "customer",
		StartTime:      "start_time",
		EndTime:        "end_time",
		FirstReplyWait: "first_reply_wait",
		Active:         "is_chat_active",
	}
}

// DefaultActiveValues returns Yes/yes and No/no.
func DefaultActiveValues() ActiveValues {
	return ActiveValues{
		Active:   MenuValue{Value: "Yes", Code: "yes"},
		Inactive: MenuValue{Value: "No", Code: "no"},
	}
}

// UsesPersons reports whether any enabled attribute refers to person cards.
func (a Attributes) UsesPersons() bool {
	return a.Customer != "" || a.Members != "" || a.SupportPerson != ""
}

// NextRun returns the first time after after when the tenant's schedule
// fires, in the schedule's CRON_TZ zone or else after's; zero when the
// schedule does not parse.
func (c *Config) NextRun(after time.Time) time.Time {
	if c.schedule == nil {
		return time.Time{}
	}
	if c.ScheduleLocation != nil {
		after = after.In(c.ScheduleLocation)
	}
	return c.schedule.Next(after)
}

// Interval is the time between the tenant's next two passes after now.
func (c *Config) Interval(now time.Time) time.Duration {
	next := c.NextRun(now)
	if next.IsZero() {
		return 0
	}
	return c.NextRun(next).Sub(next)
}

// Line returns the line a key path ("esm.timeout") was set on in the file,
// or 0 when the key was not in the file.
func (c *Config) Line(key string) int {
	return c.lines[key]
}

// String describes the config with its secrets redacted.
func (c *Config) String() string {
	s := fmt.Sprintf("tenant=%s file=%s schedule=%q platform=%s chat=%s esm=%s login=%s chat.token=%s esm.password=%s",
		c.Tenant, c.File, c.Schedule, c.Chat.Platform, redactURL(c.Chat.BaseURL), redactURL(c.ESM.BaseURL),
		c.ESM.Login, c.Chat.Token, c.ESM.Password)
	if b := c.Chat.block(); b != nil {
		for _, a := range b.secrets() {
			s += " " + a.String()
		}
	}
	return s
}

// LogValue implements slog.LogValuer; the secrets are redacted. The chat
// group holds the keys of the chosen platform's block.
func (c *Config) LogValue() slog.Value {
	chat := []slog.Attr{
		slog.String("platform", c.Chat.Platform),
		slog.String("base_url", redactURL(c.Chat.BaseURL)),
		slog.Any("token", c.Chat.Token),
		slog.Int("page_size", c.Chat.PageSize),
		slog.Float64("max_rps", c.Chat.MaxRPS),
		slog.Duration("timeout", c.Chat.Timeout),
	}
	if b := c.Chat.block(); b != nil {
		chat = append(chat, b.logAttrs()...)
	}
	return slog.GroupValue(
		slog.String("tenant", c.Tenant),
		slog.String("file", c.File),
		slog.String("schedule", c.Schedule),
		slog.String("timezone", c.Timezone),
		slog.String("state_path", c.StatePath),
		slog.Attr{Key: "chat", Value: slog.GroupValue(chat...)},
		slog.Group("esm",
			slog.String("base_url", redactURL(c.ESM.BaseURL)),
			slog.String("login", c.ESM.Login),
			slog.Any("password", c.ESM.Password),
			slog.String("template", c.ESM.Template),
			slog.String("folder", c.ESM.Folder),
			slog.Float64("max_rps", c.ESM.MaxRPS),
			slog.Duration("timeout", c.ESM.Timeout)),
		slog.Group("sync",
			slog.Int("concurrency", c.Sync.Concurrency),
			slog.Duration("max_active_age", c.Sync.MaxActiveAge),
			slog.Int("chat_log_max_chars", c.Sync.ChatLogMaxChars),
			slog.Duration("pass_timeout", c.Sync.PassTimeout),
			slog.Duration("refresh_after", c.Sync.RefreshAfter),
			slog.Duration("change_margin", c.Sync.ChangeMargin)),
	)
}

// Secret is a credential. It prints, logs and marshals as "[redacted]" (or
// "" when empty); convert it with string(s) only where it is sent.
type Secret string

const redacted = "[redacted]"

// String returns "[redacted]", or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the secret.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.String()) }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText keeps encoders (JSON, YAML) from writing the secret.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// redactURL hides the password of a URL for display; a URL that does not
// parse is hidden whole when it might hold user information.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if strings.Contains(raw, "@") {
			return redacted
		}
		return raw
	}
	return u.Redacted()
}
