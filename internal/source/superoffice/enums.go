package superoffice

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// enum is a value of one of SuperOffice's enums as the WebAPI sends it: by
// name ("UserLast"), which is what the REST API does, or by number (6, or
// "6"), which CRMScript, webhooks and some proxies do. The zero enum is
// absent (null or missing).
type enum struct {
	name string // as sent, when sent by name
	num  int64
	// isNum: sent as a number; set: sent at all.
	isNum, set bool
}

// UnmarshalJSON accepts a string, a number or null; anything else is an
// error, so that a garbled body is not read as "absent".
func (e *enum) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*e = enum{}
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if n, err := strconv.ParseInt(s, 10, 32); err == nil {
			*e = enum{num: n, isNum: true, set: true}
			return nil
		}
		*e = enum{name: s, set: s != ""}
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return errors.New("not a name or a number")
	}
	v, err := strconv.ParseInt(n.String(), 10, 32)
	if err != nil {
		return errors.New("not an enum number")
	}
	*e = enum{num: v, isNum: true, set: true}
	return nil
}

// String is the enum as an error message shows it.
func (e enum) String() string {
	switch {
	case !e.set:
		return "(none)"
	case e.isNum:
		return strconv.FormatInt(e.num, 10)
	}
	return strconv.Quote(e.name)
}

// lookup finds e in names, the enum's names indexed by value ("" where
// the vendor has no value). Names compare case-insensitively: the WebAPI
// spells them as the enum does, but a proxy or an older NetServer may not.
func (e enum) lookup(names []string) (int, bool) {
	if e.isNum {
		if e.num >= 0 && e.num < int64(len(names)) && names[e.num] != "" {
			return int(e.num), true
		}
		return 0, false
	}
	for i, n := range names {
		if n != "" && strings.EqualFold(n, e.name) {
			return i, true
		}
	}
	return 0, false
}

// ChatSessionStatus values (SuperOffice.CRM ChatSessionStatus).
const (
	statusInvalid         = 0
	statusPreChatForm     = 1
	statusFaq             = 2
	statusOfflineForm     = 3
	statusInQueue         = 4
	statusCustomerLast    = 5
	statusUserLast        = 6
	statusFinished        = 7
	statusDeleted         = 8
	statusClosed          = 9
	statusRequestPosted   = 10
	statusClosedFromQueue = 11
)

var statusNames = []string{"Invalid", "PreChatForm", "Faq", "OfflineForm", "InQueue", "CustomerLast", "UserLast",
	"Finished", "Deleted", "Closed", "RequestPosted", "ClosedFromQueue"}

// ended reports whether a status ends the session (SPEC §4.3.1). Finished
// is ended too; its reopen grace is the caller's.
func statusEnded(s int) bool {
	switch s {
	case statusFinished, statusDeleted, statusClosed, statusRequestPosted, statusClosedFromQueue:
		return true
	}
	return false
}

// ChatMessageType values.
const (
	typeInvalid    = 0
	typeToCustomer = 1
	typeToUser     = 2
	typeSpecial    = 3
)

var typeNames = []string{"Invalid", "ToCustomer", "ToUser", "Special"}

// ChatMessageSpecialType values. 4 is not used by the vendor.
const (
	specialNone               = 0
	specialWelcome            = 1
	specialURL                = 2
	specialBlock              = 3
	specialNewSession         = 5
	specialTransferedSession  = 6
	specialError              = 7
	specialSessionDeleted     = 8
	specialFaqSuccessQuestion = 9
	specialClosedByUser       = 10
	specialClosedByCustomer   = 11
	specialClosedByIdle       = 12
	specialTransferRejected   = 13
	specialReopenedByCustomer = 14
	specialClickedOption      = 15
	specialBotMessage         = 16
	specialOptions            = 17
	specialIllegalFileType    = 18
)

var specialNames = []string{"None", "Welcome", "Url", "Block", "", "NewSession", "TransferedSession", "Error",
	"SessionDeleted", "FaqSuccessQuestion", "ClosedByUser", "ClosedByCustomer", "ClosedByIdle", "TransferRejected",
	"ReopenedByCustomer", "ClickedOption", "BotMessage", "Options", "IllegalFileType"}
