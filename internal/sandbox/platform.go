package sandbox

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/syncworker/syncworker/internal/aggregate"
)

// A platform is the fake of one chat platform (SPEC §4.3). Every platform
// serves the sessions of the sandbox's one chat store, the source of truth
// that tests, generated data and loaded cases fill in domain terms, in its
// own vendor's shapes under its own path; the ESM fake is shared by all.
// Adding a platform is one file that implements this and one line in
// platforms.
type platform interface {
	// prefix is the path the platform's API is served under.
	prefix() string
	// routes registers the platform's endpoints on s, each through s.handle
	// so that faults and statistics apply.
	routes(s *Server)
	// chatConfig is the chat: block of a tenant file for this platform
	// served by s at base (scheme://host:port), indented by two spaces.
	chatConfig(s *Server, base string) string
	// express returns what the platform can carry of a session and its
	// transcript: a platform that cannot express something (several live
	// chats in one session, say) serves this instead, as its docs page
	// under docs/sources says.
	express(s aggregate.Session, msgs []aggregate.Message) (aggregate.Session, []aggregate.Message)
	// sessionID is the id the platform gives the chat store's session
	// domainID, the one its API answers to and cards carry (SuperOffice's
	// integer ChatSessionId, say). Tests, generated data and cases speak
	// of sessions by their domain id.
	sessionID(domainID string) string
	// chatRoutes names the platform's routes, as Counts keys them.
	chatRoutes() ChatRoutes
}

// ChatRoutes are a fake chat platform's routes as Counts and Requests name
// them: the change listing (empty when the platform has none), a session,
// its messages, and every other route a pass may use (lookups, tokens).
// The benchmark counts requests per session with them.
type ChatRoutes struct {
	List, Session, Messages string
	Others                  []string
}

// PlatformGeneric is the generic platform of SPEC §4.1, the default.
const PlatformGeneric = "generic"

// platforms are the fakes the sandbox can serve, by chat.platform name.
var platforms = map[string]func() platform{
	PlatformGeneric:     func() platform { return genericPlatform{} },
	PlatformCCAI:        func() platform { return newCCAIPlatform() },
	PlatformGenesys:     func() platform { return newGenesysPlatform() },
	PlatformSuperOffice: func() platform { return newSuperOfficePlatform() },
}

// Platforms lists the chat.platform names the sandbox can fake.
func Platforms() []string {
	names := make([]string, 0, len(platforms))
	for n := range platforms {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// CheckPlatform returns an error naming the fakes there are when name is
// not one of them.
func CheckPlatform(name string) error {
	if name == "" || slices.Contains(Platforms(), name) {
		return nil
	}
	return fmt.Errorf("no fake of chat platform %q; the sandbox has %s", name, strings.Join(Platforms(), ", "))
}

// Platform is the chat platform the server fakes.
func (s *Server) Platform() string { return s.opts.Platform }

// ChatPath is the path the server's chat platform is served under.
func (s *Server) ChatPath() string { return s.plat.prefix() }

// Express returns what the server's chat platform can carry of a session
// and its transcript; for the generic platform, all of it. Golden tests
// aggregate this to know the card each platform must give.
func (s *Server) Express(sess aggregate.Session, msgs []aggregate.Message) (aggregate.Session, []aggregate.Message) {
	return s.plat.express(sess, msgs)
}

// PlatformSessionID is the id the server's chat platform gives session
// domainID: what its API answers to and its card carries.
func (s *Server) PlatformSessionID(domainID string) string { return s.plat.sessionID(domainID) }

// Close releases what the server's chat platform holds outside memory
// (the CCAI Platform fake's own transcripts directory). The server keeps
// answering; call it when done with the server.
func (s *Server) Close() error {
	if c, ok := s.plat.(interface{ close() error }); ok {
		return c.close()
	}
	return nil
}

// ChatRoutes are the routes of the server's chat platform.
func (s *Server) ChatRoutes() ChatRoutes { return s.plat.chatRoutes() }

// ChatConfig is the chat: block of a tenant file for this server's chat
// platform, served at base (scheme://host:port).
func (s *Server) ChatConfig(base string) string {
	return "chat:\n  platform: " + s.opts.Platform + "\n" + s.plat.chatConfig(s, base)
}
