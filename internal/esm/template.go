package esm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// TemplateInfo describes a template: its attributes by code.
type TemplateInfo struct {
	Code       string
	Name       string
	Folders    []string
	Attributes map[string]AttributeInfo
}

// AttributeInfo describes one attribute of a template. Type is Efecte's:
// "string", "number", "date", "static-value", "reference", ….
type AttributeInfo struct {
	Code         string
	Name         string
	Type         string
	MultiValue   bool
	StaticValues []StaticValue
}

// StaticValue is one entry of a static menu.
type StaticValue struct {
	Code  string
	Value string
}

// Static returns the menu entry whose display value is value.
func (a AttributeInfo) Static(value string) (StaticValue, bool) {
	for _, sv := range a.StaticValues {
		if sv.Value == value {
			return sv, true
		}
	}
	return StaticValue{}, false
}

// wireTemplate is Efecte's RESTTemplateInfo; attributes is an object keyed
// by code, though an array of objects with a "code" is read too.
type wireTemplate struct {
	Name           string          `json:"name"`
	Code           string          `json:"code"`
	TemplateCode   string          `json:"templateCode"`
	AllowedFolders []wireFolder    `json:"allowedFolders"`
	Attributes     json.RawMessage `json:"attributes"`
}

type wireFolder struct {
	FolderCode string `json:"folderCode"`
}

type wireAttribute struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	MultiValue bool   `json:"multiValue"`
	Values     []struct {
		Code  json.RawMessage `json:"code"`
		Value json.RawMessage `json:"value"`
	} `json:"values"`
}

// Template reads a template's attributes, their types and static menus.
//
// ESM endpoint: GET /dc/{template}
//
// A 404 is ErrTemplateNotFound.
func (c *Client) Template(ctx context.Context, template string) (TemplateInfo, error) {
	info, err := c.template(ctx, template)
	if err != nil {
		return TemplateInfo{}, fmt.Errorf("esm read template %s: %w", template, err)
	}
	return info, nil
}

func (c *Client) template(ctx context.Context, template string) (TemplateInfo, error) {
	if err := checkTemplate(template); err != nil {
		return TemplateInfo{}, err
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: templatePath(template)})
	if err != nil {
		return TemplateInfo{}, notFound(err, ErrTemplateNotFound)
	}
	var w wireTemplate
	if err := decode(resp, &w); err != nil {
		return TemplateInfo{}, err
	}
	attrs, err := decodeAttributes(w.Attributes)
	if err != nil {
		return TemplateInfo{}, err
	}
	info := TemplateInfo{Code: firstNonEmpty(w.Code, w.TemplateCode, template), Name: w.Name, Attributes: attrs}
	for _, f := range w.AllowedFolders {
		info.Folders = append(info.Folders, f.FolderCode)
	}
	return info, nil
}

func decodeAttributes(raw json.RawMessage) (map[string]AttributeInfo, error) {
	out := make(map[string]AttributeInfo)
	raw = bytes.TrimSpace(raw)
	if !present(raw) {
		return out, nil
	}
	var list []wireAttribute
	if raw[0] == '[' {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("decode attributes: %w", err)
		}
	} else {
		var byCode map[string]wireAttribute
		if err := json.Unmarshal(raw, &byCode); err != nil {
			return nil, fmt.Errorf("decode attributes: %w", err)
		}
		for code, a := range byCode {
			a.Code = firstNonEmpty(a.Code, code)
			list = append(list, a)
		}
	}
	for _, a := range list {
		info, err := a.info()
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", a.Code, err)
		}
		out[a.Code] = info
	}
	return out, nil
}

func (a wireAttribute) info() (AttributeInfo, error) {
	info := AttributeInfo{Code: a.Code, Name: a.Name, Type: a.Type, MultiValue: a.MultiValue}
	for _, v := range a.Values {
		code, err := scalarText(v.Code)
		if err != nil {
			return AttributeInfo{}, err
		}
		value, err := menuText(v.Value)
		if err != nil {
			return AttributeInfo{}, err
		}
		info.StaticValues = append(info.StaticValues, StaticValue{Code: code, Value: value})
	}
	return info, nil
}

// menuText reads a menu entry's display value. Efecte's document types it
// as an object, though ESM sends a string; an object or array is kept as
// compact JSON, so that reading the template does not fail over it.
func menuText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && (raw[0] == '{' || raw[0] == '[') {
		var buf bytes.Buffer
		err := json.Compact(&buf, raw)
		return buf.String(), err
	}
	return scalarText(raw)
}
