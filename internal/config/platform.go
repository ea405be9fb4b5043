package config

import (
	"log/slog"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The values of chat.platform (SPEC §4.3). Platforms lists them all.
const (
	PlatformGeneric     = DefaultPlatform
	PlatformSuperOffice = "superoffice"
	PlatformGenesys     = "genesys-cloud"
	PlatformCCAI        = "ccai-platform"
)

// Platforms are the values of chat.platform: generic, whose keys are the
// common ones, then the platform of each block of ChatConfig. Adding a
// platform is one block struct and one field of ChatConfig.
var Platforms = platformNames()

func platformNames() []string {
	names := []string{DefaultPlatform}
	for _, f := range structFields(reflect.TypeFor[ChatConfig]()) {
		if f.platform != "" && !slices.Contains(names, f.platform) {
			names = append(names, f.platform)
		}
	}
	return names
}

// Values of chat.auth_scheme: how chat.token is sent to SuperOffice.
const (
	AuthSchemeBearer   = "Bearer"   // Authorization: Bearer <chat.token>
	AuthSchemeSOTicket = "SOTicket" // Authorization: SOTicket <chat.token>
)

// EventsSignatureHMAC is the default value of chat.events_signature:
// X-Signature is hex(HMAC-SHA256(secret, X-Signature-Timestamp + "." + body)).
const EventsSignatureHMAC = "hmac-sha256"

// EventsSignatures are the values of chat.events_signature: the ways of
// signing a CCAI Platform event that the adapter verifies.
var EventsSignatures = []string{EventsSignatureHMAC}

// Defaults of the platform blocks (SPEC §4.3.1-§4.3.3).
const (
	DefaultAuthScheme  = AuthSchemeBearer
	DefaultReopenGrace = 30 * time.Minute

	// DefaultGenesysMaxRPS keeps under Genesys Cloud's 300 requests a
	// minute per token.
	DefaultGenesysMaxRPS      = 5
	DefaultGenesysMessageType = "webmessaging"

	// DefaultCCAIMaxRPS keeps under CCAI Platform's 10 requests a second
	// per customer.
	DefaultCCAIMaxRPS      = 8
	DefaultEventsSignature = EventsSignatureHMAC
	DefaultPollAfter       = 10 * time.Minute
	DefaultTranscriptWait  = 24 * time.Hour
)

// SuperOfficeConfig holds the keys of chat.platform superoffice (SPEC
// §4.3.1). chat.base_url is the tenant's WebAPI root, chat.token the
// token or ticket sent in the Authorization header.
type SuperOfficeConfig struct {
	// AuthScheme is how chat.token is sent: AuthSchemeBearer or
	// AuthSchemeSOTicket.
	AuthScheme string `yaml:"auth_scheme"`
	// AppToken, when not empty, is sent as the SO-AppToken header.
	// AppTokenFile names the file it was read from, if any.
	AppToken     Secret `yaml:"app_token"`
	AppTokenFile string `yaml:"app_token_file"`
	// BotNames are message authors taken for the bot.
	BotNames []string `yaml:"bot_names"`
	// ReopenGrace is how long a Finished session may still be reopened by
	// the customer: until then it keeps the active value. 0 ends it at once.
	ReopenGrace time.Duration `yaml:"reopen_grace"`
}

// GenesysConfig holds the keys of chat.platform genesys-cloud (SPEC
// §4.3.2). chat.base_url is the region's API host; chat.token is not
// used: the adapter logs in with the OAuth client credentials.
type GenesysConfig struct {
	ClientID string `yaml:"client_id"`
	// ClientSecret is the OAuth client secret; ClientSecretFile names the
	// file it was read from, if any.
	ClientSecret     Secret `yaml:"client_secret"`
	ClientSecretFile string `yaml:"client_secret_file"`
	// LoginURL is where tokens come from ({LoginURL}/oauth/token). Parse
	// derives it from chat.base_url when the file does not set it: the
	// API host with "api." replaced by "login.", over https.
	LoginURL string `yaml:"login_url"`
	// CustomerEmailAttribute is the participant attribute holding the
	// customer's email; "" means the external contact's emails only.
	CustomerEmailAttribute string `yaml:"customer_email_attribute"`
	// MessageTypes are the messageType values backfill's query keeps.
	MessageTypes []string `yaml:"message_types"`
}

// CCAIConfig holds the keys of chat.platform ccai-platform (SPEC §4.3.3).
// chat.base_url is https://<subdomain>.<domain>/apps/api/v1; the adapter
// sends HTTP Basic with Subdomain as user and chat.token as password.
type CCAIConfig struct {
	Subdomain string `yaml:"subdomain"`
	// TranscriptsDir is where the export storage lands <chat_id>.json.
	TranscriptsDir string `yaml:"transcripts_dir"`
	// EventsSecrets are the event webhook's shared secrets: the primary,
	// and a second while rotating. Empty when the tenant takes no events
	// (the adapter then polls).
	EventsSecrets []Secret `yaml:"events_secrets"`
	// EventsSignature is how events are signed: one of EventsSignatures.
	EventsSignature string `yaml:"events_signature"`
	// PollAfter is how long a tracked chat goes without an event before it
	// is polled.
	PollAfter time.Duration `yaml:"poll_after"`
	// TranscriptWait is how long after its end a chat waits for its
	// transcript file before it is closed without one.
	TranscriptWait time.Duration `yaml:"transcript_wait"`
}

// defaultBlocks returns the platform blocks holding their defaults.
func defaultBlocks() (SuperOfficeConfig, GenesysConfig, CCAIConfig) {
	return SuperOfficeConfig{AuthScheme: DefaultAuthScheme, ReopenGrace: DefaultReopenGrace},
		GenesysConfig{MessageTypes: []string{DefaultGenesysMessageType}},
		CCAIConfig{EventsSignature: DefaultEventsSignature, PollAfter: DefaultPollAfter, TranscriptWait: DefaultTranscriptWait}
}

// platformBlock is what a platform block does beside holding its keys.
// Every field of ChatConfig tagged platform:"name" implements it.
type platformBlock interface {
	// usesToken reports whether the platform signs in with chat.token.
	usesToken() bool
	// credentialKeys names the keys whose values the platform checks when
	// it signs the worker in.
	credentialKeys() []string
	// defaults fills the defaults that depend on other keys; set reports
	// whether the file gave a chat key a value.
	defaults(chat *ChatConfig, set func(key string) bool)
	validate(v *validator)
	// readFiles reads the block's *_file secrets.
	readFiles(v *validator)
	// logAttrs describes the block for LogValue, secrets redacted.
	logAttrs() []slog.Attr
	// secrets describes the block's secrets for String, redacted.
	secrets() []slog.Attr
}

// block returns the platform block chat.platform chooses, or nil for
// generic (and for a platform that is not known).
func (c *ChatConfig) block() platformBlock {
	v := reflect.ValueOf(c).Elem()
	for i := range v.NumField() {
		if name := v.Type().Field(i).Tag.Get("platform"); name != "" && name == c.Platform {
			b, _ := v.Field(i).Addr().Interface().(platformBlock)
			return b
		}
	}
	return nil
}

// setDefaults fills the chosen platform's defaults that depend on other
// keys; the decoder calls it when it has read the chat section.
func (c *ChatConfig) setDefaults(set func(key string) bool) {
	if b := c.block(); b != nil {
		b.defaults(c, set)
	}
}

// readFiles reads the *_file secrets of the chosen platform's block.
//
// ReadFiles (load.go) must call it after reading chat.token_file.
func (c *ChatConfig) readFiles(v *validator) {
	if b := c.block(); b != nil {
		b.readFiles(v)
	}
}

func (s *SuperOfficeConfig) usesToken() bool { return true }

func (s *SuperOfficeConfig) credentialKeys() []string {
	return []string{"chat.token", "chat.app_token"}
}

func (s *SuperOfficeConfig) defaults(*ChatConfig, func(string) bool) {}

func (s *SuperOfficeConfig) validate(v *validator) {
	if s.AuthScheme != AuthSchemeBearer && s.AuthScheme != AuthSchemeSOTicket {
		v.add("chat.auth_scheme", "%s is not one of %s, %s", v.shown("chat.auth_scheme", s.AuthScheme),
			AuthSchemeBearer, AuthSchemeSOTicket)
	}
	v.optionalSecret("chat.app_token", s.AppToken, "chat.app_token_file", s.AppTokenFile)
	v.names("chat.bot_names", s.BotNames)
	if s.ReopenGrace < 0 {
		v.add("chat.reopen_grace", "must be 0 (no grace) or more, got %s", s.ReopenGrace)
	}
}

func (s *SuperOfficeConfig) readFiles(v *validator) {
	if s.AppTokenFile != "" {
		s.AppToken = v.readSecret("chat.app_token_file", s.AppTokenFile)
	}
}

func (s *SuperOfficeConfig) logAttrs() []slog.Attr {
	return []slog.Attr{
		slog.String("auth_scheme", s.AuthScheme),
		slog.Any("app_token", s.AppToken),
		slog.Any("bot_names", s.BotNames),
		slog.Duration("reopen_grace", s.ReopenGrace),
	}
}

func (s *SuperOfficeConfig) secrets() []slog.Attr {
	return []slog.Attr{slog.Any("chat.app_token", s.AppToken)}
}

func (g *GenesysConfig) usesToken() bool { return false }

func (g *GenesysConfig) credentialKeys() []string {
	return []string{"chat.client_id", "chat.client_secret"}
}

func (g *GenesysConfig) defaults(chat *ChatConfig, set func(string) bool) {
	if !set("max_rps") {
		chat.MaxRPS = DefaultGenesysMaxRPS
	}
	if g.LoginURL == "" {
		g.LoginURL, _ = genesysLoginURL(chat.BaseURL)
	}
}

// genesysLoginURL derives the login host from the API host:
// https://api.mypurecloud.ie → https://login.mypurecloud.ie.
func genesysLoginURL(baseURL string) (string, bool) {
	u, err := url.Parse(baseURL)
	if err != nil || u.User != nil {
		return "", false
	}
	rest, ok := strings.CutPrefix(strings.ToLower(u.Host), "api.")
	if !ok || rest == "" {
		return "", false
	}
	return "https://login." + rest, true
}

func (g *GenesysConfig) validate(v *validator) {
	if v.required("chat.client_id", g.ClientID) && hasControl(g.ClientID) {
		v.add("chat.client_id", "contains control characters")
	}
	v.secret("chat.client_secret", g.ClientSecret, "chat.client_secret_file", g.ClientSecretFile)
	v.loginURL(g.LoginURL)
	if hasControl(g.CustomerEmailAttribute) {
		v.add("chat.customer_email_attribute", "contains control characters")
	}
	if len(g.MessageTypes) == 0 {
		v.add("chat.message_types", "want at least one message type, such as %s", DefaultGenesysMessageType)
	}
	for i, t := range g.MessageTypes {
		if key := indexKey("chat.message_types", i); !messageTypeRE.MatchString(t) {
			v.add(key, "%s: a message type holds only letters, digits, _ and -", v.shown(key, t))
		}
	}
}

var messageTypeRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// loginURL checks chat.login_url. Parse derives it from chat.base_url when
// the file leaves it out, so a valid config always has one.
func (v *validator) loginURL(login string) {
	chat := &v.c.Chat
	_, derivable := genesysLoginURL(chat.BaseURL)
	switch {
	case login != "":
		v.baseURL("chat.login_url", login, chat.AllowInsecureHTTP)
	case chat.BaseURL == "":
		// chat.base_url is reported
	case derivable:
		v.add("chat.login_url", "required") // a Config not made by Parse
	default:
		v.add("chat.login_url", `required: the host of chat.base_url does not start with "api.", so the login host cannot be derived from it`)
	}
}

func (g *GenesysConfig) readFiles(v *validator) {
	if g.ClientSecretFile != "" {
		g.ClientSecret = v.readSecret("chat.client_secret_file", g.ClientSecretFile)
	}
}

func (g *GenesysConfig) logAttrs() []slog.Attr {
	return []slog.Attr{
		slog.String("client_id", g.ClientID),
		slog.Any("client_secret", g.ClientSecret),
		slog.String("login_url", redactURL(g.LoginURL)),
		slog.String("customer_email_attribute", g.CustomerEmailAttribute),
		slog.Any("message_types", g.MessageTypes),
	}
}

func (g *GenesysConfig) secrets() []slog.Attr {
	return []slog.Attr{slog.Any("chat.client_secret", g.ClientSecret)}
}

func (c *CCAIConfig) usesToken() bool { return true }

func (c *CCAIConfig) credentialKeys() []string { return []string{"chat.token"} }

func (c *CCAIConfig) defaults(chat *ChatConfig, set func(string) bool) {
	if !set("max_rps") {
		chat.MaxRPS = DefaultCCAIMaxRPS
	}
}

// subdomainRE is one DNS label.
var subdomainRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

func (c *CCAIConfig) validate(v *validator) {
	if v.required("chat.subdomain", c.Subdomain) && !subdomainRE.MatchString(c.Subdomain) {
		v.add("chat.subdomain", "%s: a subdomain is one label of a host name: letters, digits and -",
			v.shown("chat.subdomain", c.Subdomain))
	}
	if v.required("chat.transcripts_dir", c.TranscriptsDir) && hasControl(c.TranscriptsDir) {
		v.add("chat.transcripts_dir", "contains control characters")
	}
	v.eventsSecrets(c.EventsSecrets)
	if !slices.Contains(EventsSignatures, c.EventsSignature) {
		v.add("chat.events_signature", "%s is not one of %s", v.shown("chat.events_signature", c.EventsSignature),
			strings.Join(EventsSignatures, ", "))
	}
	v.positive("chat.poll_after", c.PollAfter)
	v.positive("chat.transcript_wait", c.TranscriptWait)
}

// eventsSecrets checks chat.events_secrets: none (no events are taken), or
// one secret, or two while rotating.
func (v *validator) eventsSecrets(secrets []Secret) {
	const key = "chat.events_secrets"
	if len(secrets) == 0 && v.c.lines[key] == 0 {
		return
	}
	if len(secrets) == 0 || len(secrets) > 2 {
		v.add(key, "want 1 secret, or 2 while rotating, got %d", len(secrets))
	}
	for i, s := range secrets {
		key := indexKey(key, i)
		switch {
		case s != "":
			if hasControl(string(s)) {
				v.add(key, "contains control characters (a line break?)")
			}
		case v.c.fromEnv[key] != "":
			v.add(key, "empty, because ${%s} is empty", v.c.fromEnv[key])
		default:
			v.add(key, "empty")
		}
	}
}

func (c *CCAIConfig) readFiles(*validator) {}

func (c *CCAIConfig) logAttrs() []slog.Attr {
	return []slog.Attr{
		slog.String("subdomain", c.Subdomain),
		slog.String("transcripts_dir", c.TranscriptsDir),
		slog.Any("events_secrets", redactAll(c.EventsSecrets)),
		slog.String("events_signature", c.EventsSignature),
		slog.Duration("poll_after", c.PollAfter),
		slog.Duration("transcript_wait", c.TranscriptWait),
	}
}

func (c *CCAIConfig) secrets() []slog.Attr {
	return []slog.Attr{slog.Any("chat.events_secrets", redactAll(c.EventsSecrets))}
}

// redactAll renders each secret of a list as Secret.String does.
func redactAll(secrets []Secret) []string {
	out := make([]string, len(secrets))
	for i, s := range secrets {
		out[i] = s.String()
	}
	return out
}

// indexKey is the key of a list entry: "chat.bot_names[2]".
func indexKey(key string, i int) string {
	return key + "[" + strconv.Itoa(i) + "]"
}

// CredentialKeys names the keys whose values the chat platform checks when
// it signs the worker in: what an operator should look at when it refuses
// them.
func (c *ChatConfig) CredentialKeys() []string {
	if b := c.block(); b != nil {
		return b.credentialKeys()
	}
	return []string{"chat.token"}
}
