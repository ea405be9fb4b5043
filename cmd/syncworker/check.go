package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/syncworker/syncworker/internal/config"
	"github.com/syncworker/syncworker/internal/esm"
	"github.com/syncworker/syncworker/internal/source"
	"github.com/syncworker/syncworker/internal/state"
)

// checkCmd validates each tenant against the real APIs without writing
// anything: login, template attributes and menu values, chat reachability.
type checkCmd struct {
	p       *Program
	configs configList
}

func (c *checkCmd) flags(fs *flag.FlagSet) {
	fs.Var(&c.configs, "config", "tenant config file or directory of *.yaml (repeatable)")
}

// Attribute types that can hold each card value: Efecte's type names (its
// document has "date" for date-times too) and names other versions use.
var (
	textTypes   = []string{"string", "text"}
	numberTypes = []string{"number", "integer", "decimal"}
	dateTypes   = []string{"date", "datetime", "date-time"}
)

func (c *checkCmd) run(ctx context.Context, _ <-chan struct{}) error {
	ts, err := c.p.loadConfigs(c.configs, c.p.Stdout)
	if err != nil {
		return err
	}
	worst := ts.code()
	for _, cfg := range ts.cfgs {
		for _, w := range fileWarnings(cfg) {
			fmt.Fprintf(c.p.Stdout, "tenant=%s warning: %s\n", cfg.Tenant, w)
		}
		problems, code := c.checkTenant(ctx, cfg)
		for _, p := range problems {
			fmt.Fprintf(c.p.Stdout, "tenant=%s problem: %s\n", cfg.Tenant, p)
		}
		if len(problems) == 0 {
			fmt.Fprintf(c.p.Stdout, "tenant=%s ok\n", cfg.Tenant)
		}
		worst = max(worst, code)
	}
	return exitWith(worst)
}

// checkTenant returns every problem found, one line each, and the exit
// status they call for: 3 when an API or the state file cannot be used
// at all, 1 for a template that does not fit.
func (c *checkCmd) checkTenant(ctx context.Context, cfg *config.Config) ([]string, int) {
	var problems []string
	code := exitOK
	if err := state.Probe(cfg.StatePath); err != nil {
		problems = append(problems, "state_path: "+err.Error())
		code = exitFatal
	}
	chat, esmc, err := c.p.clients(cfg, c.p.logger.With("tenant", cfg.Tenant))
	if err != nil {
		return append(problems, err.Error()), exitConfig
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if tp, err := templateProblems(ctx, esmc, cfg); err != nil {
		problems = append(problems, "ESM: "+err.Error())
		code = exitFatal
	} else if len(tp) > 0 {
		problems = append(problems, tp...)
		code = max(code, exitPartial)
	}
	if err := chat.Check(ctx); err != nil {
		problems = append(problems, "chat platform: "+err.Error())
		code = exitFatal
		if errors.Is(err, source.ErrUnauthorized) {
			problems = append(problems, "chat platform: check the chat credentials ("+strings.Join(cfg.Chat.CredentialKeys(), ", ")+")")
		}
	}
	return problems, code
}

// fileWarnings warns about a config file holding a literal secret that
// other users can read, and about secret files others can read.
func fileWarnings(cfg *config.Config) []string {
	var warnings []string
	if len(cfg.LiteralSecrets) > 0 {
		if mode, ok := readableByOthers(cfg.File); ok {
			warnings = append(warnings, fmt.Sprintf("%s holds %s literally and is readable by others (mode %04o): "+
				"chmod 600 it, or use ${VAR} or a *_file", cfg.File, strings.Join(cfg.LiteralSecrets, " and "), mode))
		}
	}
	for _, key := range slices.Sorted(maps.Keys(cfg.SecretFiles)) {
		file := cfg.SecretFiles[key]
		if mode, ok := readableByOthers(file); ok {
			warnings = append(warnings, fmt.Sprintf("%s: %s is readable by others (mode %04o): chmod 600 it", key, file, mode))
		}
	}
	return warnings
}

// readableByOthers returns the permissions of file when its group or
// others may read it.
func readableByOthers(file string) (fs.FileMode, bool) {
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm()&0o044 == 0 {
		return 0, false
	}
	return fi.Mode().Perm(), true
}

// templateProblems logs in and compares the chat-session and person
// templates with the configuration. An error means ESM could not be asked.
func templateProblems(ctx context.Context, client *esm.Client, cfg *config.Config) ([]string, error) {
	info, err := client.Template(ctx, cfg.ESM.Template)
	if errors.Is(err, esm.ErrTemplateNotFound) {
		return []string{fmt.Sprintf("esm.template: ESM has no template %q (the template code of the chat-session cards)",
			cfg.ESM.Template)}, nil
	}
	if err != nil {
		return nil, err
	}
	a := cfg.ESM.Attributes
	var problems []string
	need := func(key, code string, types []string, ref, multi bool) {
		if code == "" {
			return
		}
		attr, ok := info.Attributes[code]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("esm.attributes.%s: template %s has no attribute %q", key, cfg.ESM.Template, code))
		case ref && attr.Type != "reference":
			problems = append(problems, fmt.Sprintf("esm.attributes.%s: attribute %q is a %s, want a reference", key, code, attr.Type))
		case !ref && !slices.Contains(types, attr.Type):
			problems = append(problems, fmt.Sprintf("esm.attributes.%s: attribute %q is a %s, want one of %s", key, code, attr.Type, strings.Join(types, ", ")))
		case multi && !attr.MultiValue:
			problems = append(problems, fmt.Sprintf("esm.attributes.%s: attribute %q holds one value, want multi-value", key, code))
		}
	}
	need("session_id", a.SessionID, textTypes, false, false)
	need("chat_log", a.ChatLog, textTypes, false, false)
	need("message_count", a.MessageCount, numberTypes, false, false)
	need("members", a.Members, nil, true, true)
	need("support_person", a.SupportPerson, nil, true, false)
	need("customer", a.Customer, nil, true, false)
	need("start_time", a.StartTime, dateTypes, false, false)
	need("end_time", a.EndTime, dateTypes, false, false)
	need("first_reply_wait", a.FirstReplyWait, numberTypes, false, false)
	problems = append(problems, menuProblems(info, cfg)...)
	problems = append(problems, folderProblems(info, cfg)...)
	if a.Members != "" || a.SupportPerson != "" || a.Customer != "" {
		pp, err := personProblems(ctx, client, cfg)
		if err != nil {
			return nil, err
		}
		problems = append(problems, pp...)
	}
	return problems, nil
}

// menuProblems checks that the active attribute is a static menu holding
// both configured values with their codes.
func menuProblems(info esm.TemplateInfo, cfg *config.Config) []string {
	code := cfg.ESM.Attributes.Active
	attr, ok := info.Attributes[code]
	if !ok {
		return []string{fmt.Sprintf("esm.attributes.active: template %s has no attribute %q", cfg.ESM.Template, code)}
	}
	if attr.Type != "static-value" {
		return []string{fmt.Sprintf("esm.attributes.active: attribute %q is a %s, want a static menu (static-value)", code, attr.Type)}
	}
	var problems []string
	for _, v := range []struct {
		key string
		mv  config.MenuValue
	}{{"active", cfg.ESM.ActiveValues.Active}, {"inactive", cfg.ESM.ActiveValues.Inactive}} {
		sv, ok := attr.Static(v.mv.Value)
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("esm.active_values.%s: menu %q has no value %q", v.key, code, v.mv.Value))
		case v.mv.Code != "" && sv.Code == "":
			problems = append(problems, fmt.Sprintf("esm.active_values.%s: value %q has no code in ESM (null), not %q", v.key, v.mv.Value, v.mv.Code))
		case v.mv.Code != "" && sv.Code != v.mv.Code:
			problems = append(problems, fmt.Sprintf("esm.active_values.%s: value %q has code %q in ESM, not %q", v.key, v.mv.Value, sv.Code, v.mv.Code))
		}
	}
	return problems
}

// folderProblems checks that esm.folder, where backfill creates cards, is
// one of the folders the template allows.
func folderProblems(info esm.TemplateInfo, cfg *config.Config) []string {
	if slices.Contains(info.Folders, cfg.ESM.Folder) {
		return nil
	}
	allowed := "none"
	if len(info.Folders) > 0 {
		allowed = strings.Join(info.Folders, ", ")
	}
	return []string{fmt.Sprintf("esm.folder: template %s does not allow folder %q (it allows %s)", cfg.ESM.Template, cfg.ESM.Folder, allowed)}
}

func personProblems(ctx context.Context, client *esm.Client, cfg *config.Config) ([]string, error) {
	p := cfg.ESM.Person
	info, err := client.Template(ctx, p.Template)
	if errors.Is(err, esm.ErrTemplateNotFound) {
		return []string{fmt.Sprintf("esm.person.template: no template %q", p.Template)}, nil
	}
	if err != nil {
		return nil, err
	}
	if _, ok := info.Attributes[p.MatchAttribute]; !ok {
		return []string{fmt.Sprintf("esm.person.match_attribute: template %s has no attribute %q", p.Template, p.MatchAttribute)}, nil
	}
	return nil, nil
}
