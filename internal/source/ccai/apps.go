package ccai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/syncworker/syncworker/internal/source"
)

// The Apps API's chat (GET /chats/{id}) and the Manager API's agent
// (GET /manager/api/v1/agents/{id}), as far as the adapter reads them.

type wireChat struct {
	ID         json.RawMessage `json:"id"`
	Status     string          `json:"status"`
	CreatedAt  *string         `json:"created_at"`
	AssignedAt *string         `json:"assigned_at"`
	EndsAt     *string         `json:"ends_at"`
	EndUser    *struct {
		ID         json.RawMessage `json:"id"`
		Identifier string          `json:"identifier"`
		Name       string          `json:"name"`
	} `json:"end_user"`
	AgentInfo []wireAgent `json:"agent_info"`
}

type wireAgent struct {
	ID        json.RawMessage `json:"id"`
	Name      string          `json:"name"`
	FirstName string          `json:"first_name"`
	LastName  string          `json:"last_name"`
	Email     string          `json:"email"`
}

// head is what the adapter keeps of the Apps API's answer, in the cache
// under the chat id, with when it was asked.
type head struct {
	PolledAt      time.Time   `json:"polled_at"`
	Status        string      `json:"status"`
	CreatedAt     time.Time   `json:"created_at"`
	AssignedAt    time.Time   `json:"assigned_at,omitzero"`
	EndsAt        time.Time   `json:"ends_at,omitzero"`
	CustomerID    string      `json:"customer_id,omitempty"`
	CustomerName  string      `json:"customer_name,omitempty"`
	CustomerEmail string      `json:"customer_email,omitempty"`
	Agents        []headAgent `json:"agents,omitempty"`
}

type headAgent struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Apps API statuses (SPEC §4.3.3).
var endedStatuses = map[string]bool{"finished": true, "no_response": true, "canceled": true, "failed": true}

func (h *head) ended() bool { return endedStatuses[h.Status] }

const (
	cacheChat  = Namespace + ":chat"
	cacheAgent = Namespace + ":agent"
)

// fetchChat asks the Apps API for chat id: GET /chats/{id}.
func (c *Client) fetchChat(ctx context.Context, id string) (head, error) {
	body, err := c.get(ctx, "chat", c.base+"/chats/"+url.PathEscape(id),
		fmt.Errorf("%w: chat %s", source.ErrNotFound, id))
	if err != nil {
		return head{}, err
	}
	var w wireChat
	if err := json.Unmarshal(body, &w); err != nil {
		return head{}, source.Invalidf("chat %s: %v", id, clipErr(err))
	}
	if got, err := chatID(w.ID); err != nil || got != id {
		return head{}, source.Invalidf("asked for chat %s, got %s", id, clip(string(w.ID)))
	}
	h := head{PolledAt: c.now(), Status: w.Status}
	for _, f := range []struct {
		dst *time.Time
		src *string
	}{{&h.CreatedAt, w.CreatedAt}, {&h.AssignedAt, w.AssignedAt}, {&h.EndsAt, w.EndsAt}} {
		if *f.dst, err = optionalTime(f.src); err != nil {
			return head{}, fmt.Errorf("chat %s: %w", id, err)
		}
	}
	if h.CreatedAt.IsZero() {
		return head{}, source.Invalidf("chat %s has no created_at", id)
	}
	if u := w.EndUser; u != nil {
		h.CustomerID, h.CustomerName = strings.Trim(string(u.ID), `"`), source.Clip(u.Name, 200)
		if strings.Contains(u.Identifier, "@") {
			h.CustomerEmail = strings.TrimSpace(u.Identifier)
		}
	}
	for _, a := range w.AgentInfo {
		name := a.Name
		if name == "" {
			name = strings.TrimSpace(a.FirstName + " " + a.LastName)
		}
		h.Agents = append(h.Agents, headAgent{ID: "agent_" + strings.Trim(string(a.ID), `"`), Name: source.Clip(name, 200)})
	}
	return h, nil
}

// cachedHead returns the Apps API answer kept for chat id.
func (c *Client) cachedHead(ctx context.Context, id string) (head, bool, error) {
	cache, _ := c.stores()
	v, ok, err := cache.CacheGet(ctx, cacheChat, id)
	if err != nil || !ok {
		return head{}, false, err
	}
	var h head
	if err := json.Unmarshal([]byte(v), &h); err != nil {
		return head{}, false, nil // an older encoding: ask again
	}
	return h, true, nil
}

func (c *Client) keepHead(ctx context.Context, id string, h head) error {
	cache, _ := c.stores()
	b, _ := json.Marshal(h)
	return cache.CachePut(ctx, cacheChat, id, string(b))
}

// agentEmail returns the email of agent dn ("agent_<id>") from the Manager
// API, looked up once per agent and cached; "" when it has none or the
// API does not know the agent.
func (c *Client) agentEmail(ctx context.Context, dn string) (string, error) {
	id, ok := strings.CutPrefix(dn, "agent_")
	if !ok || id == "" || strings.ContainsAny(id, "/?#%") {
		return "", nil
	}
	if v, ok := c.agents.Load(id); ok {
		return v.(string), nil
	}
	cache, _ := c.stores()
	if v, ok, err := cache.CacheGet(ctx, cacheAgent, id); err != nil {
		return "", err
	} else if ok {
		c.agents.Store(id, v)
		return v, nil
	}
	body, err := c.get(ctx, "agent", c.manager+"/agents/"+url.PathEscape(id), errNoAgent)
	email := ""
	switch {
	case errors.Is(err, errNoAgent):
	case err != nil:
		return "", err
	default:
		var a wireAgent
		if err := json.Unmarshal(body, &a); err != nil {
			return "", source.Invalidf("agent %s: %v", id, clipErr(err))
		}
		email = strings.TrimSpace(a.Email)
	}
	if err := cache.CachePut(ctx, cacheAgent, id, email); err != nil {
		return "", err
	}
	c.agents.Store(id, email)
	return email, nil
}

var errNoAgent = errors.New("no such agent")

func jsonMessage(status int, msg string) ([]byte, error) {
	if status/100 == 2 {
		return json.Marshal(map[string]string{"status": msg})
	}
	return json.Marshal(map[string]string{"error": msg})
}
