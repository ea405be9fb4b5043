package genesys

import "time"

// The wire format of the Genesys Cloud Platform API v2 subset this adapter
// reads, named as the vendor's models are (platformclientv2 Conversation,
// Participant, Message, Messagedetails, Messagedata,
// Conversationnormalizedmessage, User, Externalcontact, Conversationquery,
// Analyticsconversationqueryresponse). Times are ISO 8601 in UTC with
// milliseconds; an absent or null time decodes as the zero time. Members
// the adapter does not use are left out and ignored.

// Participant purposes (Participant.purpose) the adapter gives a meaning.
const (
	purposeCustomer = "customer"
	purposeAgent    = "agent"
	purposeACD      = "acd"
	purposeWorkflow = "workflow"
	purposeBotflow  = "botflow"
)

// Normalised message types (Conversationnormalizedmessage.type) that are
// not transcript entries.
const (
	typeReceipt = "Receipt"
	typeEvent   = "Event"
)

// originatingEntity of a message a bot sent.
const entityBot = "Bot"

// wireConversation is the body of GET /api/v2/conversations/{conversationId}.
type wireConversation struct {
	ID           string            `json:"id"`
	StartTime    time.Time         `json:"startTime"`
	EndTime      time.Time         `json:"endTime"`
	Participants []wireParticipant `json:"participants"`
}

// wireParticipant is one leg of a conversation.
type wireParticipant struct {
	ID                string              `json:"id"`
	Purpose           string              `json:"purpose"`
	Name              string              `json:"name"`
	StartTime         time.Time           `json:"startTime"`
	ConnectedTime     time.Time           `json:"connectedTime"`
	EndTime           time.Time           `json:"endTime"`
	UserID            string              `json:"userId"`
	ExternalContactID string              `json:"externalContactId"`
	QueueName         string              `json:"queueName"`
	Attributes        map[string]string   `json:"attributes"`
	Messages          []wireCommunication `json:"messages"`
}

// wireCommunication is a participant's message communication (the
// vendor's Message model): the ids of the messages on it.
type wireCommunication struct {
	ID       string              `json:"id"`
	State    string              `json:"state"`
	Type     string              `json:"type"`
	Messages []wireMessageDetail `json:"messages"`
}

// wireMessageDetail is one entry of a communication's messages
// (Messagedetails).
type wireMessageDetail struct {
	MessageID   string    `json:"messageId"`
	MessageTime time.Time `json:"messageTime"`
}

// wireMessageListing is the body of POST
// /api/v2/conversations/messages/{conversationId}/messages/bulk
// (TextMessageListing).
type wireMessageListing struct {
	Entities []wireMessageData `json:"entities"`
}

// wireMessageData is one message body (Messagedata).
type wireMessageData struct {
	ID                string          `json:"id"`
	Timestamp         time.Time       `json:"timestamp"`
	Direction         string          `json:"direction"`
	Status            string          `json:"status"`
	TextBody          string          `json:"textBody"`
	NormalizedMessage *wireNormalized `json:"normalizedMessage"`
	CreatedBy         *wireUser       `json:"createdBy"`
}

// wireNormalized is a message in the normalised format
// (Conversationnormalizedmessage).
type wireNormalized struct {
	Type              string `json:"type"`
	Text              string `json:"text"`
	OriginatingEntity string `json:"originatingEntity"`
	Direction         string `json:"direction"`
}

// wireUser is the body of GET /api/v2/users/{userId}, and a message's
// createdBy.
type wireUser struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// wireContact is the body of GET /api/v2/externalcontacts/contacts/{contactId}.
type wireContact struct {
	ID            string `json:"id"`
	FirstName     string `json:"firstName"`
	LastName      string `json:"lastName"`
	WorkEmail     string `json:"workEmail"`
	PersonalEmail string `json:"personalEmail"`
}

// wireQuery is the body of POST /api/v2/analytics/conversations/details/query
// (Conversationquery).
type wireQuery struct {
	Interval       string              `json:"interval"`
	Order          string              `json:"order"`
	OrderBy        string              `json:"orderBy"`
	Paging         wirePaging          `json:"paging"`
	SegmentFilters []wireSegmentFilter `json:"segmentFilters"`
}

type wirePaging struct {
	PageSize   int `json:"pageSize"`
	PageNumber int `json:"pageNumber"`
}

// wireSegmentFilter is a Segmentdetailqueryfilter: predicates joined by
// type, and clauses of further predicates.
type wireSegmentFilter struct {
	Type       string          `json:"type"`
	Clauses    []wireClause    `json:"clauses,omitempty"`
	Predicates []wirePredicate `json:"predicates,omitempty"`
}

type wireClause struct {
	Type       string          `json:"type"`
	Predicates []wirePredicate `json:"predicates"`
}

type wirePredicate struct {
	Dimension string `json:"dimension"`
	Value     string `json:"value"`
}

// wireQueryResponse is the answer of the details query
// (Analyticsconversationqueryresponse).
type wireQueryResponse struct {
	Conversations []wireAnalyticsConversation `json:"conversations"`
	TotalHits     int                         `json:"totalHits"`
}

// wireAnalyticsConversation is one conversation of the details query
// (Analyticsconversationwithoutattributes), only its head.
type wireAnalyticsConversation struct {
	ConversationID    string    `json:"conversationId"`
	ConversationStart time.Time `json:"conversationStart"`
	ConversationEnd   time.Time `json:"conversationEnd"`
}
