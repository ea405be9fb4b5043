// Package source is the contract between the sync engine and the chat
// platforms it reads: one interface in domain terms (the types of
// internal/aggregate), the optional listings a platform may offer, and the
// kinds of error the engine branches on.
//
// Each platform is one package beside this one (generic, superoffice, …)
// that translates its wire format at its own edge and wraps its errors into
// the kinds below. The engine imports this package and no adapter; the
// command line picks an adapter by chat.platform.
package source

import (
	"context"
	"errors"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
)

// Source is one tenant's chat platform.
//
// Implementations must be safe for concurrent use: the engine syncs several
// sessions at once.
type Source interface {
	// Session returns session id as the platform knows it now: status,
	// times, customer, live chats and their agents. It does not return the
	// messages.
	//
	// It returns an error matching ErrNotFound when the platform does not
	// know id, ErrUnavailable when the platform did not answer usably
	// (5xx, 429 after retries), ErrUnauthorized when the credentials were
	// refused after one renewal, and ErrInvalid when the answer cannot be
	// trusted (malformed, implausible).
	Session(ctx context.Context, id string) (aggregate.Session, error)

	// Messages returns the messages of session id that follow cursor, in
	// transcript order, and the cursor that follows the last of them. The
	// cursor is opaque to the caller: the empty cursor is the start of the
	// transcript, and any other is one this method returned for this
	// session. With nothing new it returns no message and a cursor that
	// may equal the one given. It never returns a message twice for
	// cursors it handed out in sequence, and never loops on a server that
	// repeats itself (that is ErrInvalid).
	//
	// The Seq of the returned messages orders them among themselves; the
	// caller numbers the stored transcript itself. Errors are those of
	// Session.
	Messages(ctx context.Context, id, cursor string) (msgs []aggregate.Message, next string, err error)

	// Check verifies, without changing anything, that the platform answers
	// and accepts the credentials: what `syncworker check` reports. Errors
	// are those of Session.
	Check(ctx context.Context) error
}

// Listed is one entry of a platform's session listing: the session's head.
type Listed struct {
	ID        string
	Status    aggregate.Status
	StartedAt time.Time
	// UpdatedAt moves whenever the platform adds a message or changes the
	// session; zero when the listing does not say.
	UpdatedAt time.Time
}

// ChangeLister is implemented by a Source whose platform can say which
// sessions changed since a time, exactly enough to prove the others
// unchanged. The engine then skips the sessions it lists as unchanged; a
// Source without it has every tracked active session fetched every pass.
type ChangeLister interface {
	// ListChanges calls fn with every session whose UpdatedAt is at or
	// after since, page by page, each session at most once per call. An
	// error from fn stops the listing and is returned as is.
	ListChanges(ctx context.Context, since time.Time, fn func(Listed) error) error
}

// Lister is implemented by a Source that can list the sessions of a time
// window, as backfill needs.
type Lister interface {
	// ListSessions calls fn with every session updated (or, where the
	// platform only knows that, started) at or after since and started
	// before until (zero: no bound), page by page. A session may be passed
	// more than once when it changes while the listing goes on. An error
	// from fn stops the listing and is returned as is.
	ListSessions(ctx context.Context, since, until time.Time, fn func(Listed) error) error
}

// Kinds of error the engine branches on. Adapters wrap their own errors so
// that errors.Is matches one of them; anything else is taken as a problem
// of the session at hand.
var (
	// ErrNotFound: the platform does not know the session. The session
	// fails and backs off.
	ErrNotFound = errors.New("chat session not found")
	// ErrUnavailable: the platform did not answer usably (5xx, 429 after
	// the retries, a timeout). The session is tried again next pass with
	// no back-off; many in a row end the pass.
	ErrUnavailable = errors.New("chat platform unavailable")
	// ErrUnauthorized: the platform refused the credentials, after one
	// renewal where the platform has renewable tokens. The pass is fatal.
	ErrUnauthorized = errors.New("chat platform refused the credentials")
	// ErrInvalid: the answer cannot be trusted (malformed, implausible,
	// paging that would never end). The session fails and backs off.
	ErrInvalid = errors.New("invalid data from the chat platform")
	// ErrNotSupported: the platform cannot do what was asked (a listing it
	// does not have).
	ErrNotSupported = errors.New("not supported by this chat platform")
)
