package sandbox

import (
	"net"
	"net/http"
	"os"
	"time"
)

// Local is a handler, usually a Server, served by this process on a
// loopback port, with a temporary directory for the state files of the
// tenants that use it: what demo and bench run against.
type Local struct {
	// Addr is the host:port it serves on.
	Addr string
	// Dir is the temporary directory; Close removes it.
	Dir string
	srv *http.Server
}

// ServeLocal serves h on a free loopback port until Close. prefix starts
// the temporary directory's name.
func ServeLocal(h http.Handler, prefix string) (*Local, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		ln.Close()
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return &Local{Addr: ln.Addr().String(), Dir: dir, srv: srv}, nil
}

// Close stops serving and removes the temporary directory.
func (l *Local) Close() {
	l.srv.Close()
	os.RemoveAll(l.Dir)
}
