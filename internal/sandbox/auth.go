package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// chatAuth refuses chat requests without the configured bearer token.
func (s *Server) chatAuth(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r)
		if !ok || subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.ChatToken)) != 1 {
			s.writeError(w, r, APIChat, http.StatusUnauthorized, "missing or invalid bearer token")
			return
		}
		h(w, r)
	})
}

// esmAuth refuses ESM requests without a valid, unexpired JWT from login.
func (s *Server) esmAuth(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r)
		if !ok {
			s.writeError(w, r, APIESM, http.StatusUnauthorized, "missing bearer token")
			return
		}
		if msg := s.checkJWT(tok); msg != "" {
			s.writeError(w, r, APIESM, http.StatusUnauthorized, msg)
			return
		}
		h(w, r)
	})
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// handleLogin serves POST /users/login (form login, password).
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		s.writeError(w, r, APIESM, http.StatusBadRequest, "unreadable login form")
		return
	}
	login, password := r.PostForm.Get("login"), r.PostForm.Get("password")
	okLogin := subtle.ConstantTimeCompare([]byte(login), []byte(s.opts.Login))
	okPass := subtle.ConstantTimeCompare([]byte(password), []byte(s.opts.Password))
	if okLogin&okPass != 1 {
		s.writeError(w, r, APIESM, http.StatusUnauthorized, "invalid login or password")
		return
	}
	jwt := s.issueJWT(login)
	header, body := "Bearer "+jwt, "Bearer "+jwt
	switch s.opts.LoginToken {
	case TokenBare:
		header, body = jwt, jwt
	case TokenHeaderOnly:
		body = ""
	}
	w.Header().Set("Authorization", header)
	writeJSON(w, http.StatusOK, loginAnswer{Code: http.StatusOK, Message: "Authenticated",
		Timestamp: s.now().Format(time.RFC3339), Token: body})
}

// loginAnswer is Efecte's ApiResponse, the body of a successful login.
type loginAnswer struct {
	Code      int    `json:"code"`
	Message   string `json:"message"`
	Timestamp string `json:"timestamp"`
	Token     string `json:"token,omitempty"`
}

// LoginTokenStyle says how a login answer carries the token. Efecte's
// document shows "Bearer <JWT>" in the body and the Authorization header;
// deployments differ, and the client must take each of these.
type LoginTokenStyle int

// Login token styles.
const (
	// TokenBearer sends "Bearer <JWT>" in the body and in the header.
	TokenBearer LoginTokenStyle = iota
	// TokenBare sends the JWT without the "Bearer " prefix, in both.
	TokenBare
	// TokenHeaderOnly sends "Bearer <JWT>" only in the Authorization
	// header; the body has no token.
	TokenHeaderOnly
)

type jwtClaims struct {
	Sub string `json:"sub"`
	Iat int64  `json:"iat"`
	Exp int64  `json:"exp"`
	Jti int64  `json:"jti"`
	Gen int64  `json:"gen"`
}

var b64 = base64.RawURLEncoding

const jwtHeader = `{"alg":"HS256","typ":"JWT"}`

// issueJWT returns an HS256 JWT for login that expires after TokenTTL.
func (s *Server) issueJWT(login string) string {
	now := s.now()
	s.tokenMu.Lock()
	s.tokenSeq++
	c := jwtClaims{
		Sub: login,
		Iat: now.Unix(),
		Exp: now.Add(s.opts.TokenTTL).Unix(),
		Jti: s.tokenSeq,
		Gen: s.tokenGen,
	}
	s.tokenMu.Unlock()
	payload, _ := json.Marshal(c)
	signed := b64.EncodeToString([]byte(jwtHeader)) + "." + b64.EncodeToString(payload)
	return signed + "." + b64.EncodeToString(s.sign(signed))
}

func (s *Server) sign(msg string) []byte {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// checkJWT returns why tok is refused, or "" when it is valid.
func (s *Server) checkJWT(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "malformed token"
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, s.sign(parts[0]+"."+parts[1])) {
		return "unknown token"
	}
	payload, err := b64.DecodeString(parts[1])
	var c jwtClaims
	if err != nil || json.Unmarshal(payload, &c) != nil {
		return "malformed token"
	}
	s.tokenMu.Lock()
	gen := s.tokenGen
	s.tokenMu.Unlock()
	if c.Gen != gen || !s.now().Before(time.Unix(c.Exp, 0)) {
		return "token expired"
	}
	return ""
}

// ExpireTokens makes every ESM token issued so far invalid, as if they had
// all expired; clients must log in again.
func (s *Server) ExpireTokens() {
	s.tokenMu.Lock()
	s.tokenGen++
	s.tokenMu.Unlock()
}
