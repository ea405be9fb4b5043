package esmspec

import (
	"fmt"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/syncworker/syncworker/internal/sandbox"
)

// The deviations from Efecte's document that the checks tolerate. Each one
// says why: the document is wrong about what ESM does, or silent where the
// worker relies on something. Everything not listed here is held to the
// document as published.

// amendment corrects or completes the document as it is loaded. It fails
// when the document no longer has the shape it corrects, so that a fixed
// document is noticed.
type amendment struct {
	name  string
	apply func(*openapi3.T) error
}

var amendments = []amendment{
	// Wrong, harmlessly: info.license has an empty name (and url), which
	// OpenAPI does not allow. It says nothing about the API; dropped.
	{"the empty info.license is dropped", func(doc *openapi3.T) error {
		if doc.Info == nil || doc.Info.License == nil || doc.Info.License.Name != "" {
			return fmt.Errorf("info.license is no longer an empty one")
		}
		doc.Info.License = nil
		return nil
	}},
	// Wrong, harmlessly: the responses of GET /echo and GET /echo/jwt have
	// no description, which OpenAPI requires. They get an empty one.
	{"the echo operations' responses get a description", func(doc *openapi3.T) error {
		n := 0
		for _, path := range []string{"/echo", "/echo/jwt"} {
			item := doc.Paths.Value(path)
			if item == nil || item.Get == nil {
				return fmt.Errorf("no GET %s", path)
			}
			for _, resp := range item.Get.Responses.Map() {
				if resp.Value != nil && resp.Value.Description == nil {
					resp.Value.WithDescription("")
					n++
				}
			}
		}
		if n == 0 {
			return fmt.Errorf("every echo response has a description now")
		}
		return nil
	}},
	// Wrong: the JWTAuth scheme is of type http (bearer) and also says
	// "in": "header", which OpenAPI allows for apiKey schemes only. The
	// bearer scheme already means the Authorization header.
	{"JWTAuth, an http bearer scheme, has no \"in\"", func(doc *openapi3.T) error {
		ref := doc.Components.SecuritySchemes["JWTAuth"]
		if ref == nil || ref.Value == nil || ref.Value.Type != "http" || ref.Value.In == "" {
			return fmt.Errorf("JWTAuth is no longer an http scheme with \"in\"")
		}
		ref.Value.In = ""
		return nil
	}},
	// Wrong: Attribute.value is typed object (its example reads
	// "string | number | date"), yet the document's own card examples and
	// ESM carry a string or a number there: {"value":"String"},
	// {"value":42}. No plain value could pass.
	{"Attribute.value is a string or a number", func(doc *openapi3.T) error {
		return replaceProperty(doc, "Attribute", "value", "object",
			openapi3.NewOneOfSchema(openapi3.NewStringSchema(), openapi3.NewFloat64Schema()))
	}},
	// Wrong: RESTValueElement is oneOf shapes that overlap. {"value":"x"}
	// is an Attribute, a WorklogComment and a StaticValue at once, so a
	// string value matches more than one and fails oneOf. Any one shape
	// must fit: anyOf.
	{"RESTValueElement is anyOf its shapes", func(doc *openapi3.T) error {
		s, err := schema(doc, "RESTValueElement")
		if err != nil {
			return err
		}
		if len(s.OneOf) == 0 {
			return fmt.Errorf("RESTValueElement has no oneOf")
		}
		s.AnyOf, s.OneOf = s.OneOf, nil
		return nil
	}},
	// Wrong: a static menu entry of the template info, RESTStaticValueInfo,
	// types its value as an object; it is the entry's display value, the
	// string a card's StaticValue carries. An object stays allowed, as the
	// client must read what the document describes.
	{"RESTStaticValueInfo.value is a string (or, as published, an object)", func(doc *openapi3.T) error {
		return replaceProperty(doc, "RESTStaticValueInfo", "value", "object",
			openapi3.NewOneOfSchema(openapi3.NewStringSchema(), openapi3.NewObjectSchema()))
	}},
	// Silent: the modify and create requests require "data" but do not
	// describe it. It is described here as their examples show it, one
	// RESTDataCardElementUpdateRequest (the document's own) per attribute,
	// so that the values the worker writes are checked as well.
	{"the data of a modify or create request holds RESTDataCardElementUpdateRequest per attribute", func(doc *openapi3.T) error {
		element, err := schema(doc, "RESTDataCardElementUpdateRequest")
		if err != nil {
			return err
		}
		data := openapi3.NewObjectSchema()
		data.AdditionalProperties = openapi3.AdditionalProperties{
			Schema: openapi3.NewSchemaRef("#/components/schemas/RESTDataCardElementUpdateRequest", element)}
		for _, name := range []string{"RESTDataCardModifyRequest", "RESTDataCardCreateRequest"} {
			s, err := schema(doc, name)
			if err != nil {
				return err
			}
			if _, ok := s.Properties["data"]; ok {
				return fmt.Errorf("%s describes data now", name)
			}
			s.Properties["data"] = data.NewRef()
		}
		return nil
	}},
}

func schema(doc *openapi3.T, name string) (*openapi3.Schema, error) {
	ref := doc.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		return nil, fmt.Errorf("no schema %s", name)
	}
	return ref.Value, nil
}

// replaceProperty replaces property prop of schema name, which must still
// be of type was.
func replaceProperty(doc *openapi3.T, name, prop, was string, with *openapi3.Schema) error {
	s, err := schema(doc, name)
	if err != nil {
		return err
	}
	p := s.Properties[prop]
	if p == nil || p.Value == nil || !p.Value.Type.Is(was) {
		return fmt.Errorf("%s.%s is no longer of type %s", name, prop, was)
	}
	s.Properties[prop] = with.NewRef()
	return nil
}

// toleration is an answer the document does not describe that ESM gives
// all the same; it is counted, not checked.
type toleration struct {
	name    string
	applies func(route *operation, status int, h http.Header) bool
}

var tolerations = []toleration{
	// Silent: the document lists 401 for the reads only, yet every
	// operation behind JWTAuth answers it to an expired token, and the
	// worker logs in again on it.
	{"401 from any operation behind JWTAuth", func(op *operation, status int, _ http.Header) bool {
		return status == http.StatusUnauthorized && op.secured
	}},
	// Silent: no operation lists 429 or a 5xx. A gateway in front of ESM
	// answers them, with bodies of its own; the worker retries them, and
	// the sandbox injects them to show it does.
	{"429 and 5xx from any operation", func(_ *operation, status int, _ http.Header) bool {
		return status == http.StatusTooManyRequests || status >= 500
	}},
	// Silent: ESM versions from before the stream answer 405 for it (or
	// 404, which the document lists); the worker then lists page by page.
	{"405 from GET /dc/{templateCode}/data/stream", func(op *operation, status int, _ http.Header) bool {
		return status == http.StatusMethodNotAllowed && op.path == "/dc/{templateCode}/data/stream"
	}},
	// Not ESM's: answers the sandbox breaks on purpose (half a body, or
	// one cut short) to show how the client copes with them.
	{"answers the sandbox broke on purpose", func(_ *operation, _ int, h http.Header) bool {
		f := h.Get(sandbox.FaultHeader)
		return f == sandbox.FaultMalformed || f == sandbox.FaultTruncated
	}},
}

// Deviations returns the amendments and tolerations, one line each, for
// reports.
func Deviations() []string {
	var out []string
	for _, a := range amendments {
		out = append(out, "amended: "+a.name)
	}
	for _, t := range tolerations {
		out = append(out, "tolerated: "+t.name)
	}
	return out
}
