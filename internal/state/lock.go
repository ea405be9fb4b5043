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
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
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
