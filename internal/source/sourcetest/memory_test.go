package sourcetest_test

import (
	"testing"

	"github.com/syncworker/syncworker/internal/source/sourcetest"
)

// The in-memory source engine tests use must keep the contract too.
func TestMemory(t *testing.T) {
	sourcetest.Run(t, func(t *testing.T) sourcetest.Backend {
		m := sourcetest.NewMemory(nil)
		return sourcetest.Backend{Source: m, Seed: m.Seed, Append: m.Append, SetFault: m.SetFault}
	})
}
