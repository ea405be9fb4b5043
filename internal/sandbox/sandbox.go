// Package sandbox is a fake chat platform and a fake Efecte ESM in one
// http.Handler (SPEC §7). Tests, the demo, benchmarks and users point the
// real clients at it to see the worker's behaviour without a real tenant.
//
// The chat platform API of SPEC §4.1 is served under ChatPrefix and the ESM
// REST API subset of SPEC §4.2 under ESMPrefix. Sessions, person cards and
// chat-session cards are added through the Go API (AddSession, AddCase,
// LoadDir, Generate, ...) and read back with Card, CardBySession and Cards.
// Faults (latency, 5xx, 429, broken bodies) can be switched on at runtime.
//
// Every method is safe for concurrent use.
package sandbox

import (
	"crypto/rand"
	"net/http"
	"sync"
	"time"
)

// Path prefixes of the two APIs.
const (
	ChatPrefix = "/chat/api/v1"
	ESMPrefix  = "/rest-api/itsm/v1"
)

// API names one of the two fake services, in request logs and faults.
type API string

// The two APIs the sandbox serves.
const (
	APIChat API = "chat"
	APIESM  API = "esm"
)

// Defaults used when an Options field is empty.
const (
	DefaultChatToken      = "sandbox-chat-token"
	DefaultLogin          = "sandbox"
	DefaultPassword       = "sandbox"
	DefaultTokenTTL       = time.Hour
	DefaultTemplate       = "chat_session"
	DefaultFolder         = "chat_sessions"
	DefaultPersonTemplate = "person"
	DefaultPersonFolder   = "persons"
	DefaultPersonEmail    = "email"
	DefaultPersonName     = "full_name"
	DefaultChatPageSize   = 200
	MaxChatPageSize       = 1000
	DefaultCardPageSize   = 50
	MaxCardPageSize       = 200
	DefaultRequestLogSize = 10000
)

// Omit as an attribute code leaves that attribute out of the chat-session
// template, to see how the worker copes with an incomplete template.
const Omit = "-"

// StaticValue is one entry of a static menu: the display value and its code.
type StaticValue struct {
	Value string `json:"value"`
	Code  string `json:"code"`
}

// Attributes are the attribute codes of the chat-session template
// (SPEC §3 esm.attributes). Empty fields take the defaults of SPEC §3;
// Omit leaves the attribute out of the template.
type Attributes struct {
	SessionID      string
	ChatLog        string
	MessageCount   string
	Members        string
	SupportPerson  string
	Customer       string
	StartTime      string
	EndTime        string
	FirstReplyWait string
	Active         string
}

// Options configure a Server. The zero value is usable.
type Options struct {
	// Platform is the chat platform to fake (see Platforms); default
	// generic.
	Platform string
	// ChatToken is the bearer token the chat platform accepts.
	ChatToken string
	// TranscriptsDir is where the CCAI Platform fake drops transcript
	// files; empty makes a temporary directory.
	TranscriptsDir string
	// Login and Password are the ESM credentials POST /users/login accepts.
	Login    string
	Password string
	// TokenTTL is the lifetime of an ESM JWT; short values exercise re-login.
	// The JWT's exp is in whole seconds, as in the real thing.
	TokenTTL time.Duration
	// LoginToken says how the login answer carries the token; default
	// "Bearer <JWT>" in the body and the Authorization header.
	LoginToken LoginTokenStyle
	// Now is the sandbox clock: token expiry, updated_at of changed
	// sessions and default generator times. Default time.Now.
	Now func() time.Time

	// Template and Folder are the chat-session template and its folder.
	Template string
	Folder   string
	// Attributes are the chat-session attribute codes.
	Attributes Attributes
	// Active and Inactive are the two entries of the "Is chat active?"
	// static menu; defaults Yes/yes and No/no.
	Active   StaticValue
	Inactive StaticValue

	// PersonTemplate, PersonFolder, PersonEmail and PersonName describe the
	// person template: its code, folder, match attribute and name attribute.
	PersonTemplate string
	PersonFolder   string
	PersonEmail    string
	PersonName     string

	// MaxTextLength makes ESM refuse string values longer than this many
	// characters, as a template field with a length limit does; 0 is no
	// limit.
	MaxTextLength int
	// PartialWrites makes a PATCH that refuses some attributes apply the
	// others (ESM may do either); by default nothing changes.
	PartialWrites bool
	// UpdatedAtPrecision truncates the chat platform's updated_at, as
	// platforms that stamp in whole seconds (or coarser) do; 0 keeps it
	// exact.
	UpdatedAtPrecision time.Duration

	// NotFoundOnEmpty makes a card listing or stream with no match answer
	// 404 instead of 200 with empty data; SPEC §4.2 allows both.
	NotFoundOnEmpty bool
	// LinkBaseURL is the API root the next links of card listings name,
	// as an ESM behind a proxy names its own host; default the root the
	// request came in on.
	LinkBaseURL string
	// WithoutStream leaves out GET /dc/{template}/data/stream, as ESM
	// versions before it did: the path then reads as a card id and is
	// answered 404.
	WithoutStream bool
	// RequestLogSize caps the request log (oldest entries are dropped);
	// 0 is DefaultRequestLogSize, negative disables the log.
	RequestLogSize int
	// Faults are the initial fault knobs; see SetFaults.
	Faults Faults
}

// Server is a fake chat platform and the fake ESM. It implements
// http.Handler.
type Server struct {
	opts    Options
	mux     *http.ServeMux
	secret  []byte
	plat    platform
	chat    *chatStore
	esm     *esmStore
	faults  *faultState
	stats   *stats
	tokenMu sync.Mutex
	// tokenGen is bumped by ExpireTokens; JWTs of older generations are
	// refused.
	tokenGen int64
	tokenSeq int64
}

// New returns a Server with no data, configured by opts. It panics when
// opts.Platform names no fake; check it first with CheckPlatform.
func New(opts Options) *Server {
	opts = opts.withDefaults()
	newPlatform, ok := platforms[opts.Platform]
	if !ok {
		panic(CheckPlatform(opts.Platform))
	}
	s := &Server{
		opts:   opts,
		plat:   newPlatform(),
		mux:    http.NewServeMux(),
		secret: make([]byte, 32),
		chat:   newChatStore(),
		faults: newFaultState(opts.Faults),
		stats:  newStats(opts.RequestLogSize),
	}
	_, _ = rand.Read(s.secret)
	s.esm = newESMStore(chatTemplate(opts), personTemplate(opts))
	s.esm.maxText, s.esm.partial = opts.MaxTextLength, opts.PartialWrites
	s.routes()
	return s
}

// Options returns the options the server runs with, defaults filled in.
func (s *Server) Options() Options { return s.opts }

// ServeHTTP serves both APIs.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

func (s *Server) now() time.Time { return s.opts.Now().UTC() }

func (o Options) withDefaults() Options {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&o.Platform, PlatformGeneric)
	def(&o.ChatToken, DefaultChatToken)
	def(&o.Login, DefaultLogin)
	def(&o.Password, DefaultPassword)
	if o.TokenTTL <= 0 {
		o.TokenTTL = DefaultTokenTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	def(&o.Template, DefaultTemplate)
	def(&o.Folder, DefaultFolder)
	a := &o.Attributes
	def(&a.SessionID, "chat_session_id")
	def(&a.ChatLog, "chat_log")
	def(&a.MessageCount, "message_count")
	def(&a.Members, "members")
	def(&a.SupportPerson, "support_person")
	def(&a.Customer, "customer")
	def(&a.StartTime, "start_time")
	def(&a.EndTime, "end_time")
	def(&a.FirstReplyWait, "first_reply_wait")
	def(&a.Active, "is_chat_active")
	if o.Active == (StaticValue{}) {
		o.Active = StaticValue{Value: "Yes", Code: "yes"}
	}
	if o.Inactive == (StaticValue{}) {
		o.Inactive = StaticValue{Value: "No", Code: "no"}
	}
	def(&o.PersonTemplate, DefaultPersonTemplate)
	def(&o.PersonFolder, DefaultPersonFolder)
	def(&o.PersonEmail, DefaultPersonEmail)
	def(&o.PersonName, DefaultPersonName)
	if o.RequestLogSize == 0 {
		o.RequestLogSize = DefaultRequestLogSize
	}
	return o
}

// handleChat serves one endpoint of the chat platform, named route in the
// statistics, under the platform's prefix and through the fault knobs;
// auth checks the request's credentials first.
func (s *Server) handleChat(method, path, route string, auth func(http.HandlerFunc) http.Handler, h http.HandlerFunc) {
	s.mux.Handle(method+" "+s.plat.prefix()+path, s.wrap(APIChat, route, auth(h)))
}

// Route names, the keys of Counts and Request.Route.
const (
	RouteListSessions = "GET /chat/sessions"
	RouteGetSession   = "GET /chat/sessions/{id}"
	RouteListMessages = "GET /chat/sessions/{id}/messages"
	RouteLogin        = "POST /users/login"
	RouteGetTemplate  = "GET /dc/{template}"
	RouteListCards    = "GET /dc/{template}/data"
	RouteStreamCards  = "GET /dc/{template}/data/stream"
	RouteGetCard      = "GET /dc/{template}/data/{id}"
	RoutePatchCard    = "PATCH /dc/{template}/data/{id}"
	RouteCreateCard   = "POST /dc/{template}/data"
)

func (s *Server) routes() {
	s.plat.routes(s)
	esm := func(method, path, name string, h http.HandlerFunc) {
		s.mux.Handle(method+" "+ESMPrefix+path, s.wrap(APIESM, name, s.esmAuth(h)))
	}
	s.mux.Handle("POST "+ESMPrefix+"/users/login", s.wrap(APIESM, RouteLogin, http.HandlerFunc(s.handleLogin)))
	esm("GET", "/dc/{template}", RouteGetTemplate, s.handleGetTemplate)
	esm("GET", "/dc/{template}/data", RouteListCards, s.handleListCards)
	if !s.opts.WithoutStream {
		esm("GET", "/dc/{template}/data/stream", RouteStreamCards, s.handleStreamCards)
	}
	esm("GET", "/dc/{template}/data/{id}", RouteGetCard, s.handleGetCard)
	esm("PATCH", "/dc/{template}/data/{id}", RoutePatchCard, s.handlePatchCard)
	esm("POST", "/dc/{template}/data", RouteCreateCard, s.handleCreateCard)
}
