package esm

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// FindPersons returns the ids of the cards of template (the person
// template) whose attribute attr equals email, compared trimmed and
// case-insensitively, newest first.
//
// ESM endpoint: GET /dc/{template}/data?filter=$attr$ = 'email' (see ListCards)
//
// The server's EQL comparison may be case-sensitive or loose, so its
// answer is filtered again here. The caller decides what zero or several
// matches mean (SPEC §4.2: the person is unresolved).
func (c *Client) FindPersons(ctx context.Context, template, attr, email string) ([]string, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return nil, errors.New("esm find persons: empty email")
	}
	ids, err := c.findCards(ctx, template, attr, email, equalFoldTrim)
	if err != nil {
		// The email is personal data; the error names only where it looked.
		return nil, fmt.Errorf("esm find %s cards by %s: %w", template, attr, err)
	}
	return ids, nil
}
