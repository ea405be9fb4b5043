package esm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/syncworker/syncworker/internal/httpclient"
)

// streamTries bounds how often a stream that broke off is asked for.
const streamTries = 3

// StreamCards calls fn for every card of template that matches the EQL
// filter ("" for all), reading only the attributes attrs (nil for all), from
// one answer ESM streams, in ESM's order.
//
// ESM endpoint: GET /dc/{template}/data/stream?filter=…&dataCards=true&selectedAttributes=…
//
// The answer is decoded card by card while it arrives, so memory stays flat
// however many cards match; Options.HTTP.MaxBodyBytes bounds one card.
// When ESM answers 404 or 405 — versions from before the stream, or a 404
// for no matches — the cards are listed page by page instead (ListCards);
// after a 405 the client lists page by page for the rest of its life.
//
// A stream that breaks off (cut short, garbled, stalled) is asked for
// again, up to three times in all; the cards it had passed are then passed
// again, so fn sees every card at least once and must take a repeat. An
// error returned by fn stops the stream and is returned as is.
func (c *Client) StreamCards(ctx context.Context, template, filter string, attrs []string, fn func(Card) error) error {
	if c.noStream.Load() {
		return c.ListCards(ctx, template, filter, attrs, fn)
	}
	err := c.streamCards(ctx, template, filter, attrs, fn)
	var apiErr *APIError
	var stop *stopError
	switch {
	case errors.As(err, &stop):
		return stop.err
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusMethodNotAllowed:
		if !c.noStream.Swap(true) {
			c.logger.Info("ESM does not serve the card stream (405); listing cards page by page from now on", "template", template)
		}
		return c.ListCards(ctx, template, filter, attrs, fn)
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound:
		c.logger.Debug("ESM answered the card stream with 404; listing page by page", "template", template)
		return c.ListCards(ctx, template, filter, attrs, fn)
	case err != nil:
		return fmt.Errorf("esm stream %s cards: %w", template, err)
	}
	return nil
}

func (c *Client) streamCards(ctx context.Context, template, filter string, attrs []string, fn func(Card) error) error {
	q, err := c.listQuery(template, filter, attrs)
	if err != nil {
		return err
	}
	q.Del("limit")
	r := request{method: http.MethodGet, path: templatePath(template) + "/data/stream", query: q}
	for try := 1; ; try++ {
		n := 0
		err := c.doStream(ctx, r, func(body io.Reader) error {
			return decodeStream(body, c.maxCard, func(card Card) error {
				n++
				return fn(card)
			})
		})
		if err == nil || !brokenOff(err) || try == streamTries || ctx.Err() != nil {
			return err
		}
		c.logger.Warn("ESM card stream broke off; asking for it again", "template", template, "cards_read", n, "err", err)
	}
}

// brokenOff reports whether err is a stream cut short, garbled or
// stalled: asking again may give all of it.
func brokenOff(err error) bool {
	var syntax *json.SyntaxError
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &syntax) || errors.Is(err, httpclient.ErrStalled)
}

// decodeStream reads Efecte's RESTPaginatedDataCardsInfo while it arrives
// and passes each card of "data" to fn; other members (meta, before or
// after data) are skipped. maxCard bounds what is read for one card or one
// skipped member. fn's error comes back as a *stopError.
func decodeStream(body io.Reader, maxCard int64, fn func(Card) error) error {
	br := &boundedReader{r: body, max: maxCard}
	dec := json.NewDecoder(br)
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	for dec.More() {
		br.reset()
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if tok == "data" {
			if err := decodeCards(dec, br, fn); err != nil {
				return err
			}
			continue
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("decode stream: data after the answer")
	}
	return nil
}

func decodeCards(dec *json.Decoder, br *boundedReader, fn func(Card) error) error {
	tok, err := dec.Token()
	switch {
	case err != nil:
		return err
	case tok == nil:
		return nil // "data": null
	case tok != json.Delim('['):
		return fmt.Errorf("decode stream: data is not an array")
	}
	for dec.More() {
		br.reset()
		// Decoding into the wire shape directly, rather than through
		// Card.UnmarshalJSON, spares each card a second scan.
		var w wireCard
		if err := dec.Decode(&w); err != nil {
			return err
		}
		card, err := w.card()
		if err != nil {
			return err
		}
		if err := fn(card); err != nil {
			return &stopError{err: err}
		}
	}
	return expectDelim(dec, ']')
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != want {
		return fmt.Errorf("decode stream: want %v, got %v", want, tok)
	}
	return nil
}

// boundedReader fails once more than max bytes were read since the last
// reset: the decoder's read-ahead included, one card may not be larger.
type boundedReader struct {
	r    io.Reader
	max  int64
	read int64
}

func (b *boundedReader) reset() { b.read = 0 }

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.read > b.max {
		return 0, &httpclient.BodyTooLargeError{Limit: b.max}
	}
	n, err := b.r.Read(p)
	b.read += int64(n)
	return n, err
}
