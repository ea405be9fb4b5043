package genesys

import (
	"cmp"
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/source"
)

const messagesPath = "/api/v2/conversations/messages/"

// Messages returns the messages of conversation id that the cursor has not
// seen, ordered by (timestamp, id), and the cursor after them. It reads the
// message ids from the conversation Session just fetched (or fetches it),
// and the bodies of the new ids only, at most BulkSize a request. Receipts
// and events are not messages. With nothing new it sends no bulk request
// and returns the cursor given.
//
// Platform API: POST /api/v2/conversations/messages/{conversationId}/messages/bulk?useNormalizedMessage=true
func (c *Client) Messages(ctx context.Context, id, cursor string) ([]aggregate.Message, string, error) {
	msgs, next, err := c.messages(ctx, id, cursor)
	if err != nil {
		return nil, "", c.wrap(err, "fetch messages of %s", nameID(id))
	}
	return msgs, next, nil
}

func (c *Client) messages(ctx context.Context, id, cursor string) ([]aggregate.Message, string, error) {
	cur, err := parseCursor(cursor)
	if err != nil {
		return nil, "", source.Invalidf("%v", err)
	}
	conv := c.convs.take(id)
	if conv == nil {
		if conv, err = c.conversation(ctx, id); err != nil {
			return nil, "", err
		}
	}
	listed, owners := listedIDs(conv)
	var fresh []listedID
	for _, l := range listed {
		if cur.isNew(l.ID, l.Time) {
			fresh = append(fresh, l)
		}
	}
	if len(fresh) == 0 {
		return nil, cursor, nil
	}
	bodies, err := c.bulk(ctx, id, fresh)
	if err != nil {
		return nil, "", err
	}
	msgs, err := c.transcript(ctx, conv, fresh, bodies, owners)
	if err != nil {
		return nil, "", err
	}
	return msgs, cur.advance(listed).String(), nil
}

// listedIDs returns every message id the conversation's participants list,
// once, with its earliest messageTime, and for each the non-customer
// participants that list it.
func listedIDs(conv *wireConversation) ([]listedID, map[string][]*wireParticipant) {
	at := map[string]time.Time{}
	owners := map[string][]*wireParticipant{}
	var order []string
	for i := range conv.Participants {
		p := &conv.Participants[i]
		for _, comm := range p.Messages {
			for _, m := range comm.Messages {
				t, ok := at[m.MessageID]
				if !ok {
					order = append(order, m.MessageID)
				}
				if !ok || m.MessageTime.Before(t) {
					at[m.MessageID] = m.MessageTime
				}
				if p.Purpose != purposeCustomer && !slices.Contains(owners[m.MessageID], p) {
					owners[m.MessageID] = append(owners[m.MessageID], p)
				}
			}
		}
	}
	out := make([]listedID, len(order))
	for i, id := range order {
		out[i] = listedID{ID: id, Time: at[id]}
	}
	slices.SortFunc(out, func(a, b listedID) int {
		return cmp.Or(a.Time.Compare(b.Time), strings.Compare(a.ID, b.ID))
	})
	return out, owners
}

// bulk fetches the bodies of ids, BulkSize a request, and checks that
// each answer holds exactly the ids asked for.
func (c *Client) bulk(ctx context.Context, convID string, ids []listedID) (map[string]*wireMessageData, error) {
	out := make(map[string]*wireMessageData, len(ids))
	path := messagesPath + url.PathEscape(convID) + "/messages/bulk?useNormalizedMessage=true"
	for chunk := range slices.Chunk(ids, c.bulkSize) {
		asked := make([]string, len(chunk))
		for i, l := range chunk {
			asked[i] = l.ID
		}
		body, _ := json.Marshal(asked)
		resp, err := c.call(ctx, "messages", "POST", path, body, source.ErrNotFound)
		if err != nil {
			return nil, err
		}
		entities, err := decodeBulk(resp, c.limits())
		if err != nil {
			return nil, err
		}
		if err := collect(out, asked, entities); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// collect adds the entities of one bulk answer to out, refusing an answer
// that holds an id not asked for, one id twice, or lacks one: paging that
// repeats itself or a platform that lost a message must not move the
// cursor past it.
func collect(out map[string]*wireMessageData, asked []string, entities []wireMessageData) error {
	want := make(map[string]bool, len(asked))
	for _, id := range asked {
		want[id] = true
	}
	for i := range entities {
		e := &entities[i]
		switch {
		case !want[e.ID]:
			return source.Invalidf("bulk answer holds message %s, which was not asked for", nameID(e.ID))
		case out[e.ID] != nil:
			return source.Invalidf("bulk answer holds message %s twice", nameID(e.ID))
		}
		out[e.ID] = e
	}
	for _, id := range asked {
		if out[id] == nil {
			return source.Invalidf("bulk answer lacks message %s", nameID(id))
		}
	}
	return nil
}

// transcript turns the fetched bodies into messages: inbound is the
// customer; outbound is the bot when originatingEntity is Bot or the
// participant listing it is a workflow or botflow, else an agent, the
// message's createdBy or that participant's user. Each message belongs to
// the latest live chat requested at or before it.
func (c *Client) transcript(ctx context.Context, conv *wireConversation, ids []listedID,
	bodies map[string]*wireMessageData, owners map[string][]*wireParticipant) ([]aggregate.Message, error) {
	cust, err := c.customer(ctx, conv)
	if err != nil {
		return nil, err
	}
	chats := liveChats(conv)
	var out []aggregate.Message
	for _, l := range ids {
		m := bodies[l.ID]
		if nm := m.NormalizedMessage; nm != nil && (strings.EqualFold(nm.Type, typeReceipt) || strings.EqualFold(nm.Type, typeEvent)) {
			continue
		}
		msg := aggregate.Message{ID: m.ID, SentAt: m.Timestamp, Text: m.text()}
		if msg.SentAt.IsZero() {
			msg.SentAt = l.Time
		}
		switch direction(m) {
		case "inbound":
			msg.Sender = aggregate.Sender{Type: aggregate.SenderVisitor, ID: cust.ID, Name: cust.Name}
		case "outbound":
			if msg.Sender, err = c.outboundSender(ctx, m, owners[m.ID]); err != nil {
				return nil, err
			}
		default:
			return nil, source.Invalidf("message %s has no direction", nameID(m.ID))
		}
		if i := latestAtOrBefore(chats, msg.SentAt); i >= 0 {
			msg.LiveChatID = chats[i].ID
		}
		out = append(out, msg)
	}
	slices.SortStableFunc(out, func(a, b aggregate.Message) int {
		return cmp.Or(a.SentAt.Compare(b.SentAt), strings.Compare(a.ID, b.ID))
	})
	for i := range out {
		out[i].Seq = int64(i + 1)
	}
	return out, nil
}

// direction is the message's direction in lower case: the body's, else
// the normalised message's.
func direction(m *wireMessageData) string {
	d := m.Direction
	if d == "" && m.NormalizedMessage != nil {
		d = m.NormalizedMessage.Direction
	}
	return strings.ToLower(d)
}

// outboundSender names the author of an outbound message. Its participant
// is the non-customer participant that lists its id: the one whose user
// sent it when several do.
func (c *Client) outboundSender(ctx context.Context, m *wireMessageData, owners []*wireParticipant) (aggregate.Sender, error) {
	var createdBy wireUser
	if m.CreatedBy != nil {
		createdBy = *m.CreatedBy
	}
	var p *wireParticipant
	for _, o := range owners {
		if p == nil || (createdBy.ID != "" && o.UserID == createdBy.ID) {
			p = o
		}
	}
	if p == nil {
		p = &wireParticipant{}
	}
	bot := m.NormalizedMessage != nil && strings.EqualFold(m.NormalizedMessage.OriginatingEntity, entityBot)
	if bot || p.Purpose == purposeWorkflow || p.Purpose == purposeBotflow {
		return aggregate.Sender{Type: aggregate.SenderBot, ID: p.ID, Name: p.Name}, nil
	}
	s := aggregate.Sender{Type: aggregate.SenderAgent, ID: cmpOr(createdBy.ID, p.UserID), Name: p.Name}
	if createdBy.Name != "" {
		s.Name = createdBy.Name
	}
	if s.ID == "" {
		s.ID = p.ID
		return s, nil
	}
	u, err := c.user(ctx, s.ID)
	if err != nil {
		return s, err
	}
	if u.Found {
		s.Name, s.Email = u.Name, u.Email
	}
	return s, nil
}

// convCache hands the conversation Session fetched to the Messages call
// that follows it for the same id, so that a pass reads each conversation
// once. An entry is taken once and is good for convTTL.
type convCache struct {
	mu sync.Mutex
	m  map[string]cachedConv
}

type cachedConv struct {
	conv *wireConversation
	at   time.Time
}

const (
	convTTL       = 30 * time.Second
	maxCachedConv = 4096
)

func newConvCache() *convCache { return &convCache{m: map[string]cachedConv{}} }

func (cc *convCache) put(id string, conv *wireConversation) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if len(cc.m) >= maxCachedConv {
		for k, e := range cc.m {
			if time.Since(e.at) > convTTL {
				delete(cc.m, k)
			}
		}
		if len(cc.m) >= maxCachedConv {
			clear(cc.m)
		}
	}
	cc.m[id] = cachedConv{conv: conv, at: time.Now()}
}

func (cc *convCache) take(id string) *wireConversation {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	e, ok := cc.m[id]
	delete(cc.m, id)
	if !ok || time.Since(e.at) > convTTL {
		return nil
	}
	return e.conv
}
