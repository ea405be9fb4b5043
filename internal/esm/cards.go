package esm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/syncworker/syncworker/internal/httpclient"
)

// wirePage is Efecte's RESTPaginatedDataCardsInfo.
type wirePage struct {
	Meta struct {
		Count int `json:"count"`
		Limit int `json:"limit"`
		Links struct {
			Next string `json:"next"`
		} `json:"links"`
	} `json:"meta"`
	Data []Card `json:"data"`
}

// ListCards calls fn for every card of template that matches the EQL
// filter ("" for all), newest (highest id) first, reading only the
// attributes attrs (nil for all).
//
// ESM endpoint: GET /dc/{template}/data?limit=…&filter=…&filterId=…&dataCards=true&selectedAttributes=…
//
// It pages by filterId to the end: each next page holds the ids below the
// filterId of the previous page's next link (or, without one, below its
// lowest id). A 404 or an empty page means no (more) matches. A filterId
// that does not decrease, or more than Options.MaxPages pages, is an
// error rather than a loop. Cards repeated at a page edge are passed once.
// An error returned by fn stops the listing and is returned as is.
func (c *Client) ListCards(ctx context.Context, template, filter string, attrs []string, fn func(Card) error) error {
	if err := c.listCards(ctx, template, filter, attrs, fn); err != nil {
		var stop *stopError
		if errors.As(err, &stop) {
			return stop.err
		}
		return fmt.Errorf("esm list %s cards: %w", template, err)
	}
	return nil
}

// stopError carries fn's error out of the listing unwrapped.
type stopError struct{ err error }

func (e *stopError) Error() string { return e.err.Error() }

func (c *Client) listCards(ctx context.Context, template, filter string, attrs []string, fn func(Card) error) error {
	q, err := c.listQuery(template, filter, attrs)
	if err != nil {
		return err
	}
	var prev map[string]bool // the ids of the page before
	var filterID int64       // 0: the first page, no filterId
	for page := 0; ; page++ {
		if page == c.maxPages {
			return fmt.Errorf("more than %d pages; stopping", c.maxPages)
		}
		p, ok, err := c.listPage(ctx, template, q, filterID)
		if err != nil || !ok {
			return err
		}
		if prev, err = yield(p.Data, prev, fn); err != nil {
			return err
		}
		next, more, err := nextFilterID(p, c.pageSize)
		if err != nil || !more {
			return err
		}
		if filterID != 0 && next >= filterID {
			return fmt.Errorf("paging does not advance: filterId %d after %d", next, filterID)
		}
		filterID = next
	}
}

func (c *Client) listQuery(template, filter string, attrs []string) (url.Values, error) {
	if err := checkTemplate(template); err != nil {
		return nil, err
	}
	for _, a := range attrs {
		if err := ValidCode(a); err != nil {
			return nil, err
		}
	}
	q := url.Values{"limit": {strconv.Itoa(c.pageSize)}, "dataCards": {"true"}}
	if filter != "" {
		q.Set("filter", filter)
	}
	if len(attrs) > 0 {
		q.Set("selectedAttributes", strings.Join(attrs, ","))
	}
	return q, nil
}

// listPage reads one page; false means the server knows no such cards.
func (c *Client) listPage(ctx context.Context, template string, q url.Values, filterID int64) (wirePage, bool, error) {
	q = cloneValues(q)
	if filterID != 0 {
		q.Set("filterId", strconv.FormatInt(filterID, 10))
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: templatePath(template) + "/data", query: q})
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		return wirePage{}, false, nil
	}
	if err != nil {
		return wirePage{}, false, err
	}
	var p wirePage
	if err := decode(resp, &p); err != nil {
		return wirePage{}, false, err
	}
	return p, len(p.Data) > 0, nil
}

// yield passes the cards of a page to fn, leaving out those of the page
// before (prev), and returns the page's ids. Only neighbouring pages can
// share cards, so memory stays that of one page however long the listing.
func yield(cards []Card, prev map[string]bool, fn func(Card) error) (map[string]bool, error) {
	seen := make(map[string]bool, len(cards))
	for _, card := range cards {
		if prev[card.ID] || seen[card.ID] {
			continue
		}
		seen[card.ID] = true
		if err := fn(card); err != nil {
			return nil, &stopError{err: err}
		}
	}
	return seen, nil
}

// nextFilterID returns the filterId of the page after p, and false when p
// is the last one: no next link and fewer cards than asked for.
func nextFilterID(p wirePage, limit int) (int64, bool, error) {
	if next := p.Meta.Links.Next; next != "" {
		id, err := filterIDOf(next)
		return id, err == nil, err
	}
	if len(p.Data) < limit {
		return 0, false, nil
	}
	lowest := int64(0)
	for _, card := range p.Data {
		id, err := strconv.ParseInt(card.ID, 10, 64)
		if err != nil {
			return 0, false, fmt.Errorf("card id %q is not a number", card.ID)
		}
		if lowest == 0 || id < lowest {
			lowest = id
		}
	}
	return lowest, true, nil
}

// filterIDOf reads filterId from a next link. Only the number is used; the
// link itself is never followed, so the token never goes to another host.
func filterIDOf(link string) (int64, error) {
	u, err := url.Parse(link)
	if err != nil {
		return 0, fmt.Errorf("unreadable next link")
	}
	v := u.Query().Get("filterId")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("next link without a usable filterId (%q)", v)
	}
	return id, nil
}

func cloneValues(q url.Values) url.Values {
	out := make(url.Values, len(q)+1)
	for k, v := range q {
		out[k] = v
	}
	return out
}

// GetCard reads one data card with all its attributes.
//
// ESM endpoint: GET /dc/{template}/data/{id}
//
// A 404 is ErrCardNotFound.
func (c *Client) GetCard(ctx context.Context, template, id string) (Card, error) {
	card, err := c.getCard(ctx, template, id)
	if err != nil {
		return Card{}, fmt.Errorf("esm get %s card %s: %w", template, id, err)
	}
	return card, nil
}

func (c *Client) getCard(ctx context.Context, template, id string) (Card, error) {
	if err := checkCard(template, id); err != nil {
		return Card{}, err
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: cardPath(template, id)})
	if err != nil {
		return Card{}, notFound(err, ErrCardNotFound)
	}
	var card Card
	if err := decode(resp, &card); err != nil {
		return Card{}, err
	}
	if card.ID == "" {
		card.ID = id
	}
	return card, nil
}

func checkCard(template, id string) error {
	if err := checkTemplate(template); err != nil {
		return err
	}
	if id == "" {
		return errors.New("empty card id")
	}
	return nil
}

// forbidden marks a 403 APIError of a write as ErrWriteForbidden, keeping
// the APIError and its message.
func forbidden(err error) error {
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusForbidden {
		return fmt.Errorf("%w: %w", ErrWriteForbidden, err)
	}
	return err
}

// notFound turns a 404 APIError into sentinel.
func notFound(err, sentinel error) error {
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		return httpclient.StatusError(apiErr.Status, sentinel)
	}
	return err
}

// wireWriteResponse is Efecte's RESTDataCardResponse. Some versions put
// the errors beside meta rather than inside it; both are read.
type wireWriteResponse struct {
	Meta struct {
		Errors []json.RawMessage `json:"errors"`
	} `json:"meta"`
	Errors   []json.RawMessage `json:"errors"`
	DataCard struct {
		DataCardID json.RawMessage `json:"dataCardId"`
	} `json:"dataCard"`
}

func (w wireWriteResponse) writeError() error {
	fes := fieldErrors(append(w.Meta.Errors, w.Errors...))
	if len(fes) == 0 {
		return nil
	}
	return &WriteError{Errors: fes}
}

// PatchCard replaces the values of the attributes in data on one card;
// other attributes are left alone, and a nil or empty slice clears one.
//
// ESM endpoint: PATCH /dc/{template}/data/{id}
// with {"dataCardId":"id","data":{"<attr>":{"values":[…]}}}
//
// Repeating it is harmless, so the transport may retry it. A 200 whose
// meta.errors is not empty is a *WriteError naming each rejected attribute;
// a 404 is ErrCardNotFound, a 403 ErrWriteForbidden.
func (c *Client) PatchCard(ctx context.Context, template, id string, data map[string][]Value) error {
	if err := c.patchCard(ctx, template, id, data); err != nil {
		return fmt.Errorf("esm patch %s card %s: %w", template, id, err)
	}
	return nil
}

func (c *Client) patchCard(ctx context.Context, template, id string, data map[string][]Value) error {
	if err := checkCard(template, id); err != nil {
		return err
	}
	wd, err := encodeData(data)
	if err != nil || len(wd) == 0 {
		return err
	}
	body := struct {
		DataCardID string   `json:"dataCardId"`
		Data       wireData `json:"data"`
	}{id, wd}
	resp, err := c.do(ctx, request{method: http.MethodPatch, path: cardPath(template, id), body: body, retry: true})
	if err != nil {
		return forbidden(notFound(err, ErrCardNotFound))
	}
	var w wireWriteResponse
	if err := decode(resp, &w); err != nil {
		return err
	}
	return c.scrubWriteError(w.writeError())
}

func (c *Client) scrubWriteError(err error) error {
	var we *WriteError
	if errors.As(err, &we) {
		for i := range we.Errors {
			we.Errors[i].Message = c.scrub(we.Errors[i].Message)
		}
	}
	return err
}

// Match names a card by one attribute's value, e.g. the chat session id.
type Match struct {
	Attribute string
	Value     string
}

// FindCards returns the ids of the cards of template whose attribute
// key.Attribute has a value whose text equals key.Value exactly, newest
// first. The server's EQL match is checked again here, so that a server
// comparing loosely cannot return a wrong card.
//
// ESM endpoint: GET /dc/{template}/data?filter=$attr$ = 'value' (see ListCards)
func (c *Client) FindCards(ctx context.Context, template string, key Match) ([]string, error) {
	ids, err := c.findCards(ctx, template, key.Attribute, key.Value, func(a, b string) bool { return a == b })
	if err != nil {
		return nil, fmt.Errorf("esm find %s cards by %s: %w", template, key.Attribute, err)
	}
	return ids, nil
}

func (c *Client) findCards(ctx context.Context, template, attr, value string, equal func(a, b string) bool) ([]string, error) {
	filter, err := Eq(attr, value)
	if err != nil {
		return nil, err
	}
	var ids []string
	err = c.listCards(ctx, template, filter, []string{attr}, func(card Card) error {
		for _, v := range card.Values(attr) {
			if equal(v.Text(), value) {
				ids = append(ids, card.ID)
				return nil
			}
		}
		return nil
	})
	return ids, err
}
