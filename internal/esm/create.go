package esm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
)

// CreateCard creates a data card of template in folder and returns its id.
//
// ESM endpoint: POST /dc/{template}/data with {"folderCode":"…","data":{…}} → 201
//
// A create is never repeated blindly, since a repeat could leave two cards
// for one session. When the outcome is unknown — a connection error or
// timeout, a 5xx or 429 after the transport's own policy (which does not
// retry a POST), or a 2xx whose body cannot be read — CreateCard looks the
// card up by key (an attribute whose value identifies the card, e.g. the
// chat session id, which data must set) and returns it when it exists. Only
// when that lookup proves it does not exist is the create sent again, up to
// Options.CreateTries in all. When the lookup itself fails the error is
// returned and nothing is sent again: the next pass, which also looks the
// card up before creating it, resolves it. With an empty key.Attribute an
// unknown outcome is returned as an error.
//
// A 2xx whose meta.errors is not empty returns the new card's id (when the
// server sent one) together with a *WriteError; a 403 is ErrWriteForbidden.
func (c *Client) CreateCard(ctx context.Context, template, folder string, key Match, data map[string][]Value) (string, error) {
	id, err := c.createCard(ctx, template, folder, key, data)
	if err != nil {
		return id, fmt.Errorf("esm create %s card: %w", template, err)
	}
	return id, nil
}

func (c *Client) createCard(ctx context.Context, template, folder string, key Match, data map[string][]Value) (string, error) {
	body, err := createBody(template, folder, key, data)
	if err != nil {
		return "", err
	}
	for try := 1; ; try++ {
		id, err := c.postCard(ctx, template, body)
		if !unknownOutcome(ctx, err) || key.Attribute == "" {
			return id, err
		}
		found, lookupErr := c.lookUpCreated(ctx, template, key)
		switch {
		case lookupErr != nil:
			return "", fmt.Errorf("%w; looking the card up to see whether it was created: %w", err, lookupErr)
		case found != "":
			c.logger.Info("ESM create answered with an error, but the card exists", "template", template, "id", found)
			return found, nil
		case try == c.createTries:
			return "", fmt.Errorf("%w (card not created after %d attempts)", err, try)
		}
	}
}

type createRequest struct {
	FolderCode string   `json:"folderCode"`
	Data       wireData `json:"data"`
}

func createBody(template, folder string, key Match, data map[string][]Value) (createRequest, error) {
	if err := checkTemplate(template); err != nil {
		return createRequest{}, err
	}
	if folder == "" {
		return createRequest{}, errors.New("empty folder code")
	}
	if key.Attribute != "" {
		if err := ValidCode(key.Attribute); err != nil {
			return createRequest{}, err
		}
	}
	wd, err := encodeData(data)
	return createRequest{FolderCode: folder, Data: wd}, err
}

// errNoID is a 2xx create answer without a card id: the card may exist.
var errNoID = errors.New("create answer carries no card id")

func (c *Client) postCard(ctx context.Context, template string, body createRequest) (string, error) {
	resp, err := c.do(ctx, request{method: http.MethodPost, path: templatePath(template) + "/data", body: body})
	if err != nil {
		return "", forbidden(err)
	}
	var w wireWriteResponse
	if err := decode(resp, &w); err != nil {
		return "", err
	}
	id, err := scalarText(w.DataCard.DataCardID)
	if werr := c.scrubWriteError(w.writeError()); werr != nil {
		return id, werr
	}
	if err != nil || id == "" {
		return "", errNoID
	}
	return id, nil
}

// unknownOutcome reports whether err leaves open whether the card was
// created. A refused or failed login, a 4xx and the caller's own
// cancellation all mean it was not (or that asking again cannot help now).
func unknownOutcome(ctx context.Context, err error) bool {
	var apiErr *APIError
	var rlErr *RateLimitError
	var lerr *loginError
	var werr *WriteError
	switch {
	case err == nil, ctx.Err() != nil, errors.As(err, &lerr), errors.As(err, &werr):
		return false
	case errors.As(err, &rlErr):
		return true
	case errors.As(err, &apiErr):
		return apiErr.Status >= 500 || apiErr.Status == http.StatusRequestTimeout
	}
	// Transport failures, bodies over the cap or cut off, errNoID.
	return true
}

// lookUpCreated returns the id of the card carrying key, "" when there is
// none. With several (created elsewhere, or before), the oldest wins.
func (c *Client) lookUpCreated(ctx context.Context, template string, key Match) (string, error) {
	ids, err := c.findCards(ctx, template, key.Attribute, key.Value, func(a, b string) bool { return a == b })
	if err != nil || len(ids) == 0 {
		return "", err
	}
	return slices.MinFunc(ids, compareIDs), nil
}

func compareIDs(a, b string) int {
	x, errA := strconv.ParseInt(a, 10, 64)
	y, errB := strconv.ParseInt(b, 10, 64)
	if errA != nil || errB != nil {
		if a < b {
			return -1
		} else if a > b {
			return 1
		}
		return 0
	}
	return int(min(max(x-y, -1), 1))
}
