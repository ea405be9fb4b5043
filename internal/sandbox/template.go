package sandbox

// Attribute types as the template info of GET /dc/{template} names them,
// after the type names of Efecte's REST API.
const (
	TypeString    = "string"
	TypeNumber    = "number"
	TypeDate      = "date" // a date-time, written as RFC 3339 UTC seconds
	TypeStatic    = "static-value"
	TypeReference = "reference"
)

// indexedLen is the longest lower-cased value kept in a template's equality
// index; longer values (chat logs) are only ever found by a scan.
const indexedLen = 256

type attrDef struct {
	code   string
	name   string
	typ    string
	multi  bool
	menu   []StaticValue // static-value only
	target string        // reference only: the template referred to
}

type folderDef struct {
	code, name string
}

type template struct {
	code    string
	name    string
	folders []folderDef
	attrs   []attrDef
	idx     map[string]int
	// nameAttr is the attribute whose first value is the card's name.
	nameAttr int
}

func newTemplate(code, name string, folders []folderDef, attrs []attrDef, nameAttr string) *template {
	t := &template{code: code, name: name, folders: folders, idx: make(map[string]int), nameAttr: -1}
	for _, a := range attrs {
		if a.code == Omit || a.code == "" {
			continue
		}
		if _, dup := t.idx[a.code]; dup {
			continue
		}
		t.idx[a.code] = len(t.attrs)
		t.attrs = append(t.attrs, a)
	}
	if i, ok := t.idx[nameAttr]; ok {
		t.nameAttr = i
	}
	return t
}

func (t *template) attr(code string) (int, *attrDef, bool) {
	i, ok := t.idx[code]
	if !ok {
		return 0, nil, false
	}
	return i, &t.attrs[i], true
}

func (t *template) hasFolder(code string) bool {
	for _, f := range t.folders {
		if f.code == code {
			return true
		}
	}
	return false
}

// indexed reports whether values of a are kept in the equality index.
func (a *attrDef) indexed() bool { return a.typ == TypeString || a.typ == TypeStatic }

func chatTemplate(o Options) *template {
	a := o.Attributes
	person := o.PersonTemplate
	return newTemplate(o.Template, "Chat session", []folderDef{{o.Folder, "Chat sessions"}}, []attrDef{
		{code: a.SessionID, name: "Chat session ID", typ: TypeString},
		{code: a.ChatLog, name: "Chat log", typ: TypeString},
		{code: a.MessageCount, name: "Message count", typ: TypeNumber},
		{code: a.Members, name: "Members", typ: TypeReference, multi: true, target: person},
		{code: a.SupportPerson, name: "Support person", typ: TypeReference, target: person},
		{code: a.Customer, name: "Customer", typ: TypeReference, target: person},
		{code: a.StartTime, name: "Start time", typ: TypeDate},
		{code: a.EndTime, name: "End time", typ: TypeDate},
		{code: a.FirstReplyWait, name: "Wait time before first reply", typ: TypeNumber},
		{code: a.Active, name: "Is chat active?", typ: TypeStatic, menu: []StaticValue{o.Active, o.Inactive}},
	}, a.SessionID)
}

func personTemplate(o Options) *template {
	return newTemplate(o.PersonTemplate, "Person", []folderDef{{o.PersonFolder, "Persons"}}, []attrDef{
		{code: o.PersonName, name: "Full name", typ: TypeString},
		{code: o.PersonEmail, name: "Email", typ: TypeString},
	}, o.PersonName)
}

type wireTemplate struct {
	Name           string                  `json:"name"`
	Code           string                  `json:"code"`
	AllowedFolders []wireFolder            `json:"allowedFolders"`
	Attributes     map[string]wireAttrInfo `json:"attributes"`
}

type wireFolder struct {
	FolderName string `json:"folderName"`
	FolderCode string `json:"folderCode"`
}

type wireAttrInfo struct {
	Code       string        `json:"code"`
	Name       string        `json:"name"`
	Type       string        `json:"type"`
	MultiValue bool          `json:"multiValue"`
	Values     []StaticValue `json:"values,omitempty"`
	Target     []string      `json:"target,omitempty"`
}

func (t *template) wire() wireTemplate {
	w := wireTemplate{Name: t.name, Code: t.code, Attributes: make(map[string]wireAttrInfo, len(t.attrs))}
	for _, f := range t.folders {
		w.AllowedFolders = append(w.AllowedFolders, wireFolder{FolderName: f.name, FolderCode: f.code})
	}
	for _, a := range t.attrs {
		info := wireAttrInfo{Code: a.code, Name: a.name, Type: a.typ, MultiValue: a.multi, Values: a.menu}
		if a.target != "" {
			info.Target = []string{a.target}
		}
		w.Attributes[a.code] = info
	}
	return w
}
