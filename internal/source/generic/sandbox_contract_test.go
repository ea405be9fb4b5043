package generic_test

import (
	"net/http/httptest"
	"testing"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/sandbox"
)

// TestContract_Sandbox holds the sandbox to the contract the fake holds:
// the two backends of the chat platform must not drift apart.
func TestContract_Sandbox(t *testing.T) {
	testContract(t, func(t *testing.T) (string, string, func(aggregate.Session, []aggregate.Message)) {
		sb := sandbox.New(sandbox.Options{ChatToken: "contract-token"})
		srv := httptest.NewServer(sb)
		t.Cleanup(srv.Close)
		return srv.URL + sandbox.ChatPrefix, "contract-token", func(s aggregate.Session, msgs []aggregate.Message) {
			if err := sb.AddSession(s, msgs); err != nil {
				t.Fatalf("seed sandbox: %v", err)
			}
		}
	})
}
