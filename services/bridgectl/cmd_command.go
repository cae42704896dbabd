package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/replay"
)

const commandSendSynopsis = `command send --product PK --did DID (--attrs JSON | --raw HEX) [--kind K] [--expires D] [--wait]

Produces one DeviceCommand to TOPIC_COMMANDS (key = did). --attrs is a JSON
object of data points to write ({"charge_enable":true,"current_limit":16}),
--raw the hex bytes of a pass-through command (kind write, or write_v1 with
--kind). With --wait it then reads TOPIC_COMMAND_RESULTS for the command's
result, prints it as a JSON line and exits 0 when it succeeded, 1 when it
failed, expired or was rejected, or when none came within --timeout.`

func (a *app) commandSend(ctx context.Context, args []string) error {
	fs := a.flags("command send", commandSendSynopsis)
	var (
		product   = fs.String("product", "", "product_key (required)")
		did       = fs.String("did", "", "device id (required)")
		mac       = fs.String("mac", "", "device MAC, for the record")
		attrsS    = fs.String("attrs", "", `data points to write, a JSON object, e.g. '{"charge_enable":true}'`)
		rawS      = fs.String("raw", "", "pass-through bytes as hex, e.g. 0a0b")
		kind      = fs.String("kind", "", "write_attrs (default with --attrs), write (default with --raw) or write_v1")
		expires   = fs.Duration("expires", 0, "not to be sent after this long (0: no expiry)")
		id        = fs.String("id", "", "command_id (default: a random one)")
		requester = fs.String("requester", defaultRequester(), "who asks, for the audit trail")
		wait      = fs.Bool("wait", false, "wait for the result and print it")
		timeout   = fs.Duration("timeout", time.Minute, "how long --wait waits")
	)
	if err := parse(fs, args); err != nil {
		return err
	}
	cmd, err := buildCommand(*product, *did, *mac, *attrsS, *rawS, *kind, *id, *requester, *expires, time.Now())
	if err != nil {
		return usageErrorf("%w", err)
	}
	codec, err := a.readCodec(ctx)
	if err != nil {
		return err
	}
	client, err := a.cfg.Kafka.Client()
	if err != nil {
		return err
	}
	var plan replay.Plan
	if *wait { // note where the results end before sending, so the answer cannot be missed
		if plan, err = replay.Resolve(ctx, client, []string{a.cfg.Topics.CommandResults}, replay.Latest(), replay.Latest()); err != nil {
			return err
		}
	}
	w, err := a.cfg.Kafka.NewWriter(a.cfg.Topics.Commands)
	if err != nil {
		return err
	}
	msg, err := codec.Message("", []byte(cmd.DID), cmd)
	if err != nil {
		return err
	}
	werr := w.WriteMessages(ctx, msg)
	_ = w.Close()
	if werr != nil {
		return fmt.Errorf("producing the command to %s: %w", a.cfg.Topics.Commands, werr)
	}
	fmt.Fprintf(a.errw, "sent command %s (%s) for device %s to %s\n", cmd.CommandID, cmd.Kind, cmd.DID, a.cfg.Topics.Commands)
	if !*wait {
		fmt.Fprintln(a.out, cmd.CommandID)
		return nil
	}
	for i := range plan.Ranges {
		plan.Ranges[i].End = replay.Unbounded
	}
	wctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	var res *records.CommandResult
	err = a.scan(wctx, plan, func(m kafka.Message) error {
		if records.Header(m, "event_id") != cmd.CommandID {
			return nil
		}
		var r records.CommandResult
		if err := codec.Unmarshal(m.Value, &r); err != nil || r.CommandID != cmd.CommandID {
			return nil
		}
		res = &r
		return errStopScan
	})
	if res == nil {
		if err == nil {
			err = wctx.Err()
		}
		return fmt.Errorf("no result for command %s on %s within %s (is the command sender running? %v)", cmd.CommandID, a.cfg.Topics.CommandResults, *timeout, err)
	}
	line, _ := json.Marshal(resultJSON(res))
	fmt.Fprintln(a.out, string(line))
	if res.Status != records.CommandSucceeded {
		return fmt.Errorf("command %s %s: %s", res.CommandID, res.Status, res.Reason)
	}
	return nil
}

// buildCommand checks the flags and builds the record.
func buildCommand(product, did, mac, attrsS, rawS, kind, id, requester string, expires time.Duration, now time.Time) (*records.DeviceCommand, error) {
	var problems []error
	if product == "" {
		problems = append(problems, errors.New("--product is required"))
	}
	if did == "" {
		problems = append(problems, errors.New("--did is required"))
	}
	if (attrsS == "") == (rawS == "") {
		problems = append(problems, errors.New("give exactly one of --attrs and --raw"))
	}
	cmd := &records.DeviceCommand{CommandID: id, ProductKey: product, DID: did, MAC: mac, Kind: kind,
		RequestedAt: now.UTC().Truncate(time.Millisecond), Requester: requester}
	if attrsS != "" {
		dec := json.NewDecoder(strings.NewReader(attrsS))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil || len(m) == 0 {
			problems = append(problems, fmt.Errorf("--attrs %q: want a non-empty JSON object of data points", attrsS))
		}
		for _, name := range sortedKeys(m) {
			v, err := attrValue(m[name])
			if err != nil {
				problems = append(problems, fmt.Errorf("--attrs %s: %w", name, err))
			}
			cmd.Attrs = append(cmd.Attrs, records.DataPoint{Name: name, Value: v})
		}
		if cmd.Kind == "" {
			cmd.Kind = records.CommandWriteAttrs
		}
	}
	if rawS != "" {
		b, err := hex.DecodeString(strings.TrimPrefix(strings.ReplaceAll(rawS, " ", ""), "0x"))
		if err != nil || len(b) == 0 {
			problems = append(problems, fmt.Errorf("--raw %q: want hex bytes, e.g. 0a0b", rawS))
		}
		cmd.Raw = b
		if cmd.Kind == "" {
			cmd.Kind = records.CommandWrite
		}
	}
	switch {
	case cmd.Kind == records.CommandWriteAttrs && rawS != "", (cmd.Kind == records.CommandWrite || cmd.Kind == records.CommandWriteV1) && attrsS != "":
		problems = append(problems, fmt.Errorf("--kind %s does not go with %s", cmd.Kind, map[bool]string{true: "--raw", false: "--attrs"}[rawS != ""]))
	case cmd.Kind != records.CommandWriteAttrs && cmd.Kind != records.CommandWrite && cmd.Kind != records.CommandWriteV1:
		problems = append(problems, fmt.Errorf("--kind %q: want write_attrs, write or write_v1", cmd.Kind))
	}
	if expires < 0 {
		problems = append(problems, fmt.Errorf("--expires %s: must be ≥ 0", expires))
	} else if expires > 0 {
		t := cmd.RequestedAt.Add(expires)
		cmd.ExpiresAt = &t
	}
	if cmd.CommandID == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		cmd.CommandID = hex.EncodeToString(b)
	}
	return cmd, errors.Join(problems...)
}

// attrValue maps a JSON value onto a command attr: integers stay integers.
func attrValue(v any) (any, error) {
	switch x := v.(type) {
	case bool, string, nil:
		return x, nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, nil
		}
		f, err := x.Float64()
		return f, err
	}
	return nil, fmt.Errorf("value %v: want a bool, number or string", v)
}

func resultJSON(r *records.CommandResult) map[string]any {
	out := map[string]any{
		"command_id": r.CommandID, "product_key": r.ProductKey, "did": r.DID, "status": r.Status,
		"reason": r.Reason, "path": r.Path, "requested_at": r.RequestedAt, "answered_at": r.AnsweredAt, "requester": r.Requester,
	}
	if r.SentAt != nil {
		out["sent_at"] = *r.SentAt
	}
	return out
}

func defaultRequester() string {
	u := os.Getenv("USER")
	h, _ := os.Hostname()
	var b bytes.Buffer
	b.WriteString("bridgectl")
	if u != "" {
		b.WriteString(":" + u)
	}
	if h != "" {
		b.WriteString("@" + h)
	}
	return b.String()
}

// commandTail is tail on the results topic.
func (a *app) commandTail(ctx context.Context, args []string) error {
	for _, arg := range args {
		if arg == "--topic" || strings.HasPrefix(arg, "--topic=") || arg == "-topic" || strings.HasPrefix(arg, "-topic=") {
			return usageErrorf("command tail reads TOPIC_COMMAND_RESULTS (%s); use tail for other topics", a.cfg.Topics.CommandResults)
		}
	}
	return a.tail(ctx, append([]string{"--topic", a.cfg.Topics.CommandResults}, args...))
}
