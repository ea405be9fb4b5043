// Package esmspec holds Efecte's published OpenAPI description of the ESM
// REST API and checks HTTP traffic against it: each request an ESM client
// sends and each answer an ESM gives. The end-to-end tests put Handler in
// front of the sandbox, so that the whole suite speaks ESM the way Efecte
// documents it (SPEC §4.2), the worker and the sandbox alike.
//
// The document is not always right, and it is silent on some answers. What
// this package corrects or tolerates is listed, with the reason for each, in
// amendments.go; everything else is held to the document as published.
//
// The package is for tests: no part of the worker imports it.
package esmspec

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// DocumentPath is where the vendor document is found, relative to the
// repository root: the project's shared folder sits beside the repository,
// in CI as on a developer's machine.
const DocumentPath = "../shared/vendor/efecte-esm-openapi.json"

// ErrMissing is returned by Load when the vendor document is not where
// DocumentPath says; its message says how to get it.
var ErrMissing = errors.New("Efecte's ESM OpenAPI document is missing")

// Spec is the vendor document, amended, with a router that finds the
// operation of a request.
type Spec struct {
	doc    *openapi3.T
	router routers.Router
	path   string
}

// Path returns the file the document was read from.
func (s *Spec) Path() string { return s.path }

var (
	loadOnce sync.Once
	loaded   *Spec
	loadErr  error
)

// Load reads the vendor document once per process, applies the amendments
// and checks that the result is a valid OpenAPI document. The error wraps
// ErrMissing when the file is not there.
func Load() (*Spec, error) {
	loadOnce.Do(func() { loaded, loadErr = load() })
	return loaded, loadErr
}

func load() (*Spec, error) {
	path, err := documentFile()
	if err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("esmspec: read %s: %w", path, err)
	}
	for _, a := range amendments {
		if err := a.apply(doc); err != nil {
			return nil, fmt.Errorf("esmspec: amendment %q no longer fits %s: %w", a.name, path, err)
		}
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("esmspec: %s, amended, is not a valid OpenAPI document: %w", path, err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("esmspec: route %s: %w", path, err)
	}
	return &Spec{doc: doc, router: router, path: path}, nil
}

// documentFile finds the repository root (the directory of go.mod, from
// the working directory up, which is a package directory under go test)
// and the document beside it.
func documentFile() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("esmspec: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("esmspec: no go.mod above the working directory, so no repository root to find %s from", DocumentPath)
		}
		dir = parent
	}
	path := filepath.Clean(filepath.Join(dir, DocumentPath))
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%w at %s (%s from the repository root). It is the project's "+
			"shared/vendor/efecte-esm-openapi.json: check out the project's shared folder beside the repository, "+
			"or copy the file there. shared/vendor/README.md names its source: docs/openapi.json of the public "+
			"repository WorkSimple-GmbH/python-efecte at commit 0747ec4a6acab85b1183bba2651d664942b3b643",
			ErrMissing, path, DocumentPath)
	}
	return path, nil
}
