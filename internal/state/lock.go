package state

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrLocked is returned by Open when another process holds the state file.
var ErrLocked = errors.New("state file is in use by another syncworker process")

// maxHolder bounds how much of a lock file is read back.
const maxHolder = 512

// acquireLock takes an exclusive lock on path+".lock". The kernel releases
// it when the process dies, however it dies. The holder writes who it is
// into the file, so that a process refused the lock can say who holds it.
func acquireLock(path string) (*os.File, error) {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state %s: lock: %w", path, err)
	}
	if err := flockSoon(f); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, lockedError(path, readHolder(f))
		}
		return nil, fmt.Errorf("state %s: lock: %w", path, err)
	}
	// Who holds it is a courtesy to the next process: failing to say so
	// must not stop this one.
	if f.Truncate(0) == nil {
		f.WriteAt([]byte(holder(time.Now())), 0)
	}
	return f, nil
}

// lockPatience is how long acquireLock keeps trying a lock that is held.
// A lock released a moment ago can still be held by a child process that
// another goroutine is starting: between fork and exec the child holds a
// copy of every descriptor, the lock's included. Past this, the holder is
// taken to be a real one.
const lockPatience = 250 * time.Millisecond

// flockSoon takes an exclusive lock on f, trying again for lockPatience
// while another holds it.
func flockSoon(f *os.File) error {
	deadline := time.Now().Add(lockPatience)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// holder describes this process for its lock file: the pid, the host and
// the command (the program and its subcommand, never the flags), and
// since when.
func holder(now time.Time) string {
	host, _ := os.Hostname()
	cmd := filepath.Base(os.Args[0])
	if len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-") {
		cmd += " " + os.Args[1]
	}
	return fmt.Sprintf("pid=%d host=%s command=%s since=%s\n", os.Getpid(), strconv.Quote(host), strconv.Quote(cmd),
		now.UTC().Format(time.RFC3339))
}

// readHolder returns what the lock's holder wrote of itself, as one
// printable line; "" when it wrote nothing (an older syncworker).
func readHolder(f *os.File) string {
	b, _ := io.ReadAll(io.LimitReader(f, maxHolder))
	s := strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(string(b), ""))
	return strings.TrimSpace(s)
}

// lockedError says which process holds path and what to do about it.
func lockedError(path, holder string) error {
	who := "another syncworker process"
	if holder != "" {
		who = "the process with " + holder
	}
	return fmt.Errorf("%w: %s is held by %s. Stop that process first (to backfill beside `syncworker run`: "+
		"stop run, run the backfill, start run again), or give this tenant a state_path of its own", ErrLocked, path, who)
}

// Probe checks, without creating or changing anything, that a state file
// could be opened at path: its directory exists or can be created, the file
// (if it exists) is writable, and no other process holds it. `check` uses
// it; Open remains the real test.
func Probe(path string) error {
	dir := filepath.Dir(path)
	if err := writableDir(dir); err != nil {
		return fmt.Errorf("state %s: %w", path, err)
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("state %s: %w", path, err)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("state %s: not a regular file", path)
	case syscall.Access(path, 0o2) != nil:
		return fmt.Errorf("state %s: cannot write the state file", path)
	}
	f, err := os.OpenFile(path+".lock", os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil // no process has held it since the lock file went
	}
	if err != nil {
		return fmt.Errorf("state %s: lock: %w", path, err)
	}
	defer f.Close()
	// A shared lock, dropped at once: a worker starting in that instant
	// would be refused, which is why only check probes.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return lockedError(path, readHolder(f))
		}
		return fmt.Errorf("state %s: lock: %w", path, err)
	}
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}

// writableDir reports whether dir exists as a writable directory, or the
// nearest existing parent is one in which it could be created.
func writableDir(dir string) error {
	for {
		fi, err := os.Stat(dir)
		switch {
		case err == nil && !fi.IsDir():
			return fmt.Errorf("%s is not a directory", dir)
		case err == nil:
			if syscall.Access(dir, 0o3) != nil { // write and search
				return fmt.Errorf("cannot create files in %s", dir)
			}
			return nil
		case !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
			return err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return err
		}
		dir = parent
	}
}
