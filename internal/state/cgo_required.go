//go:build !cgo

package state

// The SQLite driver is C; without cgo this package cannot work. Refuse the
// build with the reason in the compiler's message (cmd/syncworker has the
// same guard). Build with CGO_ENABLED=1 and a C compiler (gcc) on the PATH.
const _ cgoRequired = "syncworker needs cgo (SQLite)"

type cgoRequired int
