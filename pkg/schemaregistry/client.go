package schemaregistry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/sr"
)

// Subject is the subject of a topic's record values under the
// TopicNameStrategy, the Confluent serializers' default: <topic>-value.
func Subject(topic string) string { return topic + "-value" }

// IncompatibleError is a schema that a subject's compatibility rule
// refuses: the service must not write it, since the subject's readers
// could not read it.
type IncompatibleError struct {
	Subject string
	Schema  string // Name.vN
	Reasons []string
}

func (e *IncompatibleError) Error() string {
	msg := fmt.Sprintf("the schema registry refuses %s for subject %q: it is not compatible with the subject's latest version under the subject's compatibility rule", e.Schema, e.Subject)
	if len(e.Reasons) > 0 {
		msg += " (" + strings.Join(e.Reasons, "; ") + ")"
	}
	return msg + ": give the new version a default for every added field, or change the subject's rule with the registry's owners"
}

type writeKey struct{ topic, name string }

// Client registers schemas and resolves schema ids. Safe for concurrent
// use; ids and schema texts, immutable in a registry, are cached for the
// client's life.
type Client struct {
	cl    *sr.Client
	mu    sync.RWMutex
	ids   map[writeKey]int
	texts map[int]string
}

// New builds a client for cfg, which must be Enabled and valid. It does not
// contact the registry.
func New(cfg Config) (*Client, error) {
	if !cfg.Enabled() {
		return nil, errors.New("schemaregistry: Config.URL is empty")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	httpcl, err := cfg.httpClient()
	if err != nil {
		return nil, err
	}
	opts := []sr.ClientOpt{sr.URLs(strings.TrimRight(cfg.URL, "/")), sr.HTTPClient(httpcl), sr.UserAgent("snotibridge")}
	if cfg.Username != "" {
		opts = append(opts, sr.BasicAuth(cfg.Username, cfg.Password))
	}
	cl, err := sr.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("building the schema registry client: %w", err)
	}
	return &Client{cl: cl, ids: map[writeKey]int{}, texts: map[int]string{}}, nil
}

// Register registers text, the current schema of the record name (label:
// Name.vN, for messages), under topic's subject and remembers its id for
// SchemaID. When the subject has versions, the schema is first checked
// against the latest under the subject's compatibility rule: a refusal is
// an *IncompatibleError. Registering a schema the subject already has
// returns its id and changes nothing.
func (c *Client) Register(ctx context.Context, topic, name, label, text string) (int, error) {
	subject := Subject(topic)
	schema := sr.Schema{Schema: text, Type: sr.TypeAvro}
	if _, err := c.cl.SubjectVersions(ctx, subject); err == nil {
		res, err := c.cl.CheckCompatibility(sr.WithParams(ctx, sr.Verbose), subject, -1, schema)
		if err != nil {
			return 0, fmt.Errorf("checking %s against subject %q: %w", label, subject, err)
		}
		if !res.Is {
			return 0, &IncompatibleError{Subject: subject, Schema: label, Reasons: res.Messages}
		}
	} else if !isStatus(err, http.StatusNotFound) {
		return 0, fmt.Errorf("reading the versions of subject %q: %w", subject, err)
	}
	ss, err := c.cl.CreateSchema(ctx, subject, schema)
	if err != nil {
		// Another writer may have registered a breaking version since the
		// check: the registry refuses with 409.
		if isStatus(err, http.StatusConflict) {
			return 0, &IncompatibleError{Subject: subject, Schema: label, Reasons: []string{err.Error()}}
		}
		return 0, fmt.Errorf("registering %s under subject %q: %w", label, subject, err)
	}
	c.mu.Lock()
	c.ids[writeKey{topic, name}] = ss.ID
	c.texts[ss.ID] = text
	c.mu.Unlock()
	return ss.ID, nil
}

// SchemaID returns the id Register got for the record name under topic's
// subject.
func (c *Client) SchemaID(topic, name string) (int, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	id, ok := c.ids[writeKey{topic, name}]
	return id, ok
}

// SchemaText returns the schema with the id, from the cache or the
// registry.
func (c *Client) SchemaText(ctx context.Context, id int) (string, error) {
	c.mu.RLock()
	text, ok := c.texts[id]
	c.mu.RUnlock()
	if ok {
		return text, nil
	}
	s, err := c.cl.SchemaByID(ctx, id)
	if err != nil {
		return "", err
	}
	if s.Type != sr.TypeAvro {
		return "", fmt.Errorf("schema id %d is a %s schema, not Avro", id, s.Type)
	}
	c.mu.Lock()
	c.texts[id] = s.Schema
	c.mu.Unlock()
	return s.Schema, nil
}

func isStatus(err error, code int) bool {
	var re *sr.ResponseError
	return errors.As(err, &re) && re.StatusCode == code
}
