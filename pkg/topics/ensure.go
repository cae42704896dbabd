package topics

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// Action is what Ensure did with one topic.
type Action string

// Actions of Ensure.
const (
	Created Action = "created" // it did not exist and was created
	OK      Action = "ok"      // it exists as specified
	Differs Action = "differs" // it exists and differs; it was not changed
)

// Result is what Ensure found and did for one topic.
type Result struct {
	Spec   Spec
	Action Action
	// Found is the topic as it is on the cluster (zero when Created).
	Found Description
	// Diffs are the differences when Action is Differs.
	Diffs []Difference
}

// Ensure creates every topic of specs that does not exist and describes
// and diffs those that do. It never changes an existing topic: adding
// partitions moves keys to other partitions and breaks per-key order, so
// that is an operator's decision. A topic created meanwhile by someone else
// is compared like one that existed. Results come in the order of specs.
// Specs are validated first.
func Ensure(ctx context.Context, admin Admin, specs []Spec) ([]Result, error) {
	for _, s := range specs {
		if err := s.Validate(); err != nil {
			return nil, fmt.Errorf("topic %s: %w", s.Name, err)
		}
	}
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	missing, err := missingTopics(ctx, admin, names)
	if err != nil {
		return nil, err
	}
	var create []Spec
	for _, s := range specs {
		if missing[s.Name] {
			create = append(create, s)
		}
	}
	created, err := createEach(ctx, admin, create)
	if err != nil {
		return nil, err
	}
	var compare []string
	for _, s := range specs {
		if !created[s.Name] {
			compare = append(compare, s.Name)
		}
	}
	found := map[string]Description{}
	if len(compare) > 0 {
		ds, err := Describe(ctx, admin, compare, otherKeys(specs)...)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			found[d.Name] = d
		}
	}
	out := make([]Result, len(specs))
	for i, s := range specs {
		out[i] = result(s, created[s.Name], found[s.Name])
	}
	return out, nil
}

// missingTopics are the names the broker does not know; any other error,
// of the request or of a topic, is returned.
func missingTopics(ctx context.Context, admin Admin, names []string) (map[string]bool, error) {
	_, err := metadata(ctx, admin, names)
	missing := map[string]bool{}
	for _, e := range joined(err) {
		var te *TopicError
		if !errors.As(e, &te) {
			return nil, e // the request itself failed
		}
		if !errors.Is(te.Err, kafka.UnknownTopicOrPartition) {
			return nil, fmt.Errorf("reading metadata of %s: %w", te.Topic, te.Err)
		}
		missing[te.Topic] = true
	}
	return missing, nil
}

func result(s Spec, created bool, found Description) Result {
	if created {
		return Result{Spec: s, Action: Created}
	}
	r := Result{Spec: s, Action: OK, Found: found, Diffs: Diff(s, found)}
	if len(r.Diffs) > 0 {
		r.Action = Differs
	}
	return r
}

// createEach creates specs and returns those it created; one that exists
// by now is left out, not an error.
func createEach(ctx context.Context, admin Admin, specs []Spec) (map[string]bool, error) {
	created := map[string]bool{}
	if len(specs) == 0 {
		return created, nil
	}
	errs := create(ctx, admin, specs)
	var all []error
	for _, s := range specs {
		switch err := errs[s.Name]; {
		case err == nil:
			created[s.Name] = true
		case errors.Is(err, kafka.TopicAlreadyExists):
		default:
			all = append(all, err)
		}
	}
	return created, errors.Join(all...)
}

// Create creates specs as they are (no validation: tests make topics the
// pipeline would refuse). The error joins one per topic not created; it
// wraps the broker's error, e.g. kafka.TopicAlreadyExists.
func Create(ctx context.Context, admin Admin, specs ...Spec) error {
	errs := create(ctx, admin, specs)
	var all []error
	for _, s := range specs {
		if err := errs[s.Name]; err != nil {
			all = append(all, err)
		}
	}
	return errors.Join(all...)
}

// create returns the error of each topic not created.
func create(ctx context.Context, admin Admin, specs []Spec) map[string]error {
	req := &kafka.CreateTopicsRequest{}
	for _, s := range specs {
		req.Topics = append(req.Topics, s.TopicConfig())
	}
	errs := map[string]error{}
	resp, err := admin.CreateTopics(ctx, req)
	for _, s := range specs {
		e := err
		if e == nil {
			e = resp.Errors[s.Name]
		}
		if e != nil {
			errs[s.Name] = fmt.Errorf("creating topic %s: %w", s.Name, e)
		}
	}
	return errs
}

// WaitReady polls until topic has partitions partitions, each with a
// leader, so that writes succeed right away; or until ctx ends. Give admin
// a transport with a short MetadataTTL: the default one caches metadata
// for seconds.
func WaitReady(ctx context.Context, admin MetadataAPI, topic string, partitions int) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ts, err := metadata(ctx, admin, []string{topic})
		if err == nil && len(ts[0].Partitions) == partitions && leaders(ts[0]) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for topic %s leaders: %w (last error: %v)", topic, ctx.Err(), err)
		case <-tick.C:
		}
	}
}

func leaders(t kafka.Topic) bool {
	for _, p := range t.Partitions {
		if p.Leader.ID < 0 || p.Error != nil {
			return false
		}
	}
	return true
}

// otherKeys are the Other settings named in specs.
func otherKeys(specs []Spec) []string {
	var keys []string
	seen := map[string]bool{}
	for _, s := range specs {
		for k := range s.Other {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// joined splits an error made by errors.Join.
func joined(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
