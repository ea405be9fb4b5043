package httpclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// ErrStalled is a streamed body that sent nothing for longer than
// Options.Timeout.
var ErrStalled = errors.New("the answer stalled")

// Stream sends r like Do, but hands the body of a 2xx answer to read while
// it arrives, for answers too large to hold whole: the caller decodes it
// piece by piece and bounds what it keeps.
//
// The same retry, rate and Retry-After policy applies until an answer
// arrives. Options.Timeout bounds the wait for the answer's header and
// each wait for more of its body, not the whole transfer: a body that
// keeps coming may take as long as read takes over it, while one that
// stops for longer than Timeout fails with ErrStalled. No size cap applies
// to a streamed body.
//
// Any other status comes back as a Response with its body read under the
// cap, as from Do, and read is not called. Once read has been called the
// request is not tried again, since the caller has already acted on part
// of it; read's error, or a stall, is returned, and the Response of a read
// that ended well has no Body.
func (c *Client) Stream(ctx context.Context, r Request, read func(body io.Reader) error) (*Response, error) {
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ctx, st := withState(ctx, r)
	req, err := c.newRequest(ctx, r)
	if err != nil {
		return nil, err
	}
	var (
		out     *Response
		readErr error
	)
	req.SetResponseHandler(func(resp *http.Response) error {
		if resp.StatusCode/100 != 2 {
			b, err := c.readBody(resp)
			if err != nil {
				return err
			}
			out = &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: b}
			return nil
		}
		st.streamed = true
		defer resp.Body.Close()
		body := newStallReader(resp.Body, c.timeout, func() { cancel(ErrStalled) })
		defer body.stop()
		if readErr = read(body); readErr != nil {
			return readErr
		}
		out = &Response{StatusCode: resp.StatusCode, Header: resp.Header}
		return nil
	})
	resp, err := c.streamRC.Do(req)
	switch {
	case parent.Err() != nil:
		if resp != nil {
			resp.Body.Close()
		}
		return nil, parent.Err()
	case errors.Is(context.Cause(ctx), ErrStalled):
		return nil, fmt.Errorf("%s %s: nothing for %s: %w", r.Method, redact(req), c.timeout, ErrStalled)
	case readErr != nil:
		return nil, readErr
	}
	return c.finish(ctx, r, req, st, resp, err, out)
}

// stallReader calls stalled when one Read waits longer than timeout. Time
// the caller spends between reads does not count.
type stallReader struct {
	r       io.Reader
	timeout time.Duration
	timer   *time.Timer
}

func newStallReader(r io.Reader, timeout time.Duration, stalled func()) *stallReader {
	t := time.AfterFunc(time.Hour, stalled)
	t.Stop()
	return &stallReader{r: r, timeout: timeout, timer: t}
}

func (s *stallReader) Read(p []byte) (int, error) {
	s.timer.Reset(s.timeout)
	n, err := s.r.Read(p)
	s.timer.Stop()
	return n, err
}

func (s *stallReader) stop() { s.timer.Stop() }
