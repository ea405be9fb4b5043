//go:build !cgo

package main

// syncworker keeps its state in SQLite through github.com/mattn/go-sqlite3,
// which is C: without cgo the build would fail deep inside the driver's
// users, or the driver would fail at run time. This refuses the build with
// the reason in the compiler's message. Build with CGO_ENABLED=1 and a C
// compiler (gcc) on the PATH; internal/state carries the same guard, since
// it is compiled first.
const _ cgoRequired = "syncworker needs cgo (SQLite)"

type cgoRequired int
