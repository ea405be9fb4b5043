package superoffice

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/syncworker/syncworker/internal/source"
)

// The wire format of SuperOffice's REST WebAPI (SPEC §4.3.1), the members
// the adapter reads; unknown members are ignored.

// wireSession is a ChatSessionEntity (GET /ChatSession/{id}).
type wireSession struct {
	ChatSessionID flexInt        `json:"ChatSessionId"`
	TopicID       flexInt        `json:"TopicId"`
	User          *wireAssociate `json:"User"`
	Person        *struct {
		PersonID flexInt `json:"PersonId"`
		FullName string  `json:"FullName"`
		Email    string  `json:"Email"`
	} `json:"Person"`
	CustomerAlias   string         `json:"CustomerAlias"`
	CustomerName    string         `json:"CustomerName"`
	CustomerEmail   string         `json:"CustomerEmail"`
	Status          enum           `json:"Status"`
	WhenRequested   wireTime       `json:"WhenRequested"`
	WhenStarted     wireTime       `json:"WhenStarted"`
	WhenEnded       wireTime       `json:"WhenEnded"`
	WhenIdle        wireTime       `json:"WhenIdle"`
	TransferTo      *wireAssociate `json:"TransferTo"`
	ChatbotIsActive bool           `json:"ChatbotIsActive"`
}

// wireAssociate is an Associate carrier: a session's User or TransferTo,
// and the answer of GET /Associate/{id}.
type wireAssociate struct {
	AssociateID flexInt `json:"AssociateId"`
	Name        string  `json:"Name"`
	FullName    string  `json:"FullName"`
	PersonID    flexInt `json:"PersonId"`
}

// wirePerson is the part of a PersonEntity (GET /Person/{id}) the adapter
// reads.
type wirePerson struct {
	PersonID flexInt `json:"PersonId"`
	Emails   []struct {
		Value string `json:"Value"`
	} `json:"Emails"`
}

// wireMessage is one ChatMessage of GET /ChatSession/{id}/Messages.
type wireMessage struct {
	ChatMessageID flexInt  `json:"ChatMessageId"`
	ChatSessionID flexInt  `json:"ChatSessionId"`
	Type          enum     `json:"Type"`
	Message       string   `json:"Message"`
	Author        string   `json:"Author"`
	SpecialType   enum     `json:"SpecialType"`
	SpecialParam  string   `json:"SpecialParam"`
	WhenPosted    wireTime `json:"WhenPosted"`
}

// odataPage is one page of an archive listing (GET /ChatSession?$select=…).
type odataPage struct {
	NextLink string            `json:"odata.nextLink"`
	Value    []json.RawMessage `json:"value"`
}

// listedRow is one row of the ChatSession archive with the columns the
// adapter selects. PrimaryKey is the row's id when chatSessionId is not
// there.
type listedRow struct {
	PrimaryKey    flexInt  `json:"PrimaryKey"`
	ChatSessionID flexInt  `json:"chatSessionId"`
	Status        enum     `json:"status"`
	WhenRequested wireTime `json:"whenRequested"`
	WhenEnded     wireTime `json:"whenEnded"`
	UpdatedDate   wireTime `json:"updatedDate"`
}

// wireError is the WebAPI's error body:
// {"Error":true,"ErrorType":"SoNotFoundException","ErrorMessage":"…","ErrorSource":"…"}.
type wireError struct {
	ErrorType    string `json:"ErrorType"`
	ErrorMessage string `json:"ErrorMessage"`
	// Message is what some front ends (the Online gateway, a proxy) send
	// instead.
	Message string `json:"Message"`
}

// flexInt is an integer id sent as a JSON number or, as archive rows in
// slim mode do, a numeric string. Zero is absent.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*f = 0
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s = strings.TrimSpace(s); s == "" {
			*f = 0
			return nil
		}
		b = []byte(s)
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return errors.New("not an integer id")
	}
	*f = flexInt(n)
	return nil
}

// wireTime is a WebAPI date-time: ISO 8601 with an offset and up to seven
// fractional digits ("2024-07-28T14:28:26.7739511+02:00"). A time without
// an offset is UTC, as SuperOffice documents for WhenPosted and the
// archive's dates. null, "" and the .NET "no date" values (any year before
// 1900: 0001-01-01, SQL Server's 1753-01-01) are none.
type wireTime struct{ time.Time }

// noDateBefore is where "no date" placeholders end.
var noDateBefore = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

func (t *wireTime) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("not a date-time string")
	}
	v, err := parseTime(s)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// timeLayouts are the forms a WebAPI date-time comes in; Go's parser takes
// any number of fractional digits after the seconds.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999"}

func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range timeLayouts {
		if v, err := time.Parse(layout, s); err == nil {
			if v.Before(noDateBefore) {
				return time.Time{}, nil
			}
			return v, nil
		}
	}
	return time.Time{}, errors.New("not an ISO 8601 date-time: " + strconv.Quote(source.Clip(s, 40)))
}
