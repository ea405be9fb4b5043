// Package state keeps syncworker's progress in a SQLite file: each tracked
// session's cursor and last written values, the people cache, and the run
// history. One process at a time may hold a state file.
package state

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Store is an open state file. Its methods are safe for concurrent use;
// each one is a single transaction.
type Store struct {
	db *sql.DB
	// durable is a second connection to the file that commits with
	// synchronous=FULL: what it commits survives a power loss, not only
	// a crash of the process. Events answered 202 are written through it.
	durable *sql.DB
	lock    *os.File
	path    string
	now     func() time.Time
}

// Open opens the state file at path, creating it and its parent directories
// when missing, takes the process lock, and migrates the schema. It writes
// once before returning, so a file that cannot be written fails here,
// before any API is contacted.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	lock, err := acquireLock(path)
	if err != nil {
		return nil, err
	}
	s := &Store{lock: lock, path: path, now: time.Now}
	if err := private(path); err != nil {
		s.Close()
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	if err := s.open(); err != nil {
		s.Close()
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	return s, nil
}

func (s *Store) open() error {
	// Each connection keeps its prepared statements: a pass looks up every
	// active session, and preparing the same query each time cost more than
	// running it.
	const dsn = "?_journal_mode=WAL&_busy_timeout=10000&_foreign_keys=on&_txlock=immediate&_stmt_cache_size=32"
	db, err := sql.Open("sqlite3", s.path+dsn+"&_synchronous=NORMAL")
	if err != nil {
		return err
	}
	s.db = db
	db.SetMaxOpenConns(4)
	if s.durable, err = sql.Open("sqlite3", s.path+dsn+"&_synchronous=FULL"); err != nil {
		return err
	}
	s.durable.SetMaxOpenConns(1)
	if err := s.migrate(); err != nil {
		return describe(err)
	}
	_, err = db.Exec(`INSERT INTO meta (key, value) VALUES ('opened_at', ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, s.now().UTC().Format(time.RFC3339))
	return describe(err)
}

// recovery says what to do with a state file that is damaged or not one.
const recovery = "To recover, stop every syncworker using it and move the file aside together with its -wal, -shm " +
	"and .lock files (or restore a backup); the next pass builds a new one, fetches every active session's " +
	"transcript again and writes each active card once more (never a second card). " +
	"`sqlite3 FILE 'PRAGMA integrity_check'` tells what is damaged"

// describe turns SQLite's terse errors about the file itself into ones an
// operator can act on.
func describe(err error) error {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code {
	case sqlite3.ErrNotADB, sqlite3.ErrCorrupt:
		return fmt.Errorf("not a syncworker state database (or damaged): %w. %s", err, recovery)
	case sqlite3.ErrFull:
		return fmt.Errorf("disk full: %w", err)
	case sqlite3.ErrReadonly, sqlite3.ErrCantOpen, sqlite3.ErrPerm:
		return fmt.Errorf("cannot write the state file: %w", err)
	}
	return err
}

// describeReadOnly is describe for a read-only open, which writes nothing:
// a file it cannot open is one it cannot read (permissions, a directory,
// or a WAL index beside it this user cannot open), not one it cannot write.
func describeReadOnly(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && (se.Code == sqlite3.ErrReadonly || se.Code == sqlite3.ErrCantOpen ||
		se.Code == sqlite3.ErrPerm || se.Code == sqlite3.ErrIoErr) {
		return fmt.Errorf("cannot open the state file read-only: %w", err)
	}
	return describe(err)
}

// private makes the state file and its WAL and shared-memory files
// readable by their owner only, whatever the umask: they hold transcripts.
// SQLite creates the -wal and -shm files with the mode of the database
// file, so creating that one 0600 first is enough for new files; files
// made by an older syncworker are tightened.
func private(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}

// OpenReadOnly opens an existing state file for reading while another
// process may hold it, as status does beside a running worker. It takes no
// lock and writes nothing.
func OpenReadOnly(path string) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	db, err := sql.Open("sqlite3", "file:"+esc+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	s := &Store{db: db, path: path, now: time.Now}
	var version int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil {
		db.Close()
		return nil, fmt.Errorf("state %s: %w", path, describeReadOnly(err))
	}
	if n := len(mustMigrations()); version == 0 || version > n {
		db.Close()
		return nil, fmt.Errorf("state %s: schema version %d, this syncworker reads 1 to %d", path, version, n)
	}
	return s, nil
}

func mustMigrations() []string {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		panic(err) // the pattern is constant and valid
	}
	sort.Strings(names)
	return names
}

// Path is the state file's path.
func (s *Store) Path() string { return s.path }

// SetClock replaces the clock that stamps rows; tests use it.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// Close closes the database, then releases the lock.
func (s *Store) Close() error {
	var err error
	if s.durable != nil {
		s.durable.Close()
	}
	if s.db != nil {
		err = s.db.Close()
	}
	if s.lock != nil {
		s.lock.Close()
	}
	return err
}

// migrate applies the embedded migrations newer than the file's
// user_version, each in its own transaction, and refuses a file written by
// a newer syncworker.
func (s *Store) migrate() error {
	names := mustMigrations()
	var version int
	if err := s.db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil {
		return err
	}
	if version > len(names) {
		return fmt.Errorf("schema version %d is newer than this syncworker knows (%d): upgrade syncworker", version, len(names))
	}
	for i := version; i < len(names); i++ {
		body, err := migrationFS.ReadFile(names[i])
		if err != nil {
			return err
		}
		if err := s.tx(context.Background(), func(tx *sql.Tx) error {
			if _, err := tx.Exec(string(body)); err != nil {
				return fmt.Errorf("migration %s: %w", strings.TrimPrefix(names[i], "migrations/"), err)
			}
			_, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, i+1))
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// tx runs fn in one immediate transaction.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	return txOn(ctx, s.db, fn)
}

// durableTx is tx on the connection that commits with synchronous=FULL.
func (s *Store) durableTx(ctx context.Context, fn func(*sql.Tx) error) error {
	if s.durable == nil {
		return errors.New("state opened read-only")
	}
	return txOn(ctx, s.durable, fn)
}

func txOn(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return describe(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return describe(err)
	}
	return describe(tx.Commit())
}

// IntegrityCheck runs SQLite's integrity check and returns its verdict,
// "ok" when the file is sound.
func (s *Store) IntegrityCheck(ctx context.Context) (string, error) {
	var res string
	err := s.db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res)
	return res, err
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
