package energismefwd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/filewatch"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/replay"
	"github.com/snotibridge/snotibridge/pkg/sftpexport"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

// filesSink is the energisme-files replay sink: the Energisme forwarder's
// own file exporter (pkg/energismefwd, with its SFTP uploader, formats,
// file naming and known_hosts check), fed by the replay engine. Files are
// cut as the forwarder cuts them — a partition's run of records in one
// window of Kafka time and one block of ENERGISME_FILE_MAX_MESSAGES
// offsets — and named after their offsets, so a replayed window whose
// boundaries repeat replaces its file instead of adding one. The exporter
// is Bounded: at the end of the range the last files are complete and are
// uploaded; on an interruption they are dropped, and their records are
// read again by the next run.
type filesSink struct {
	codec  *records.Codec
	log    zerolog.Logger
	up     *sftpexport.Uploader
	in     chan kafka.Message
	cancel context.CancelFunc
	exited chan struct{} // closed when the exporter's Run returned
	runErr error         // Run's result, set before exited is closed

	mu       sync.Mutex
	finished bool
	path     string           // the sink's progress file; "" keeps it in memory
	durable  map[string]int64 // "topic/partition" → first offset not in an uploaded file
	saveErr  error
}

// filesProgress is the sink's progress file.
type filesProgress struct {
	// Durable maps "topic/partition" to the first offset of the partition
	// not in a file on the server.
	Durable map[string]int64 `json:"durable"`
}

// FilesReplaySink returns the replay.SinkFactory of the "energisme-files"
// sink: the file part's settings s (bridgectl reads them from the
// forwarder's ENERGISME_SFTP_* and ENERGISME_FILE_* variables) and a
// Bounded exporter whose uploads ctx bounds. The handler is a
// replay.Holding.
func FilesReplaySink(s FileSettings) replay.SinkFactory {
	return func(ctx context.Context, env replay.SinkEnv) (consume.Handler, error) {
		return newFilesSink(ctx, s, env)
	}
}

func newFilesSink(ctx context.Context, s FileSettings, env replay.SinkEnv) (consume.Handler, error) {
	fe, up, err := s.NewFileExporter(env.Codec, env.Log, env.Metrics, func(c *FileConfig) { c.Bounded = true })
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	fs := &filesSink{
		codec: env.Codec, log: env.Log, up: up, cancel: cancel,
		in: make(chan kafka.Message), exited: make(chan struct{}), durable: map[string]int64{},
	}
	go func() {
		defer close(fs.exited)
		fs.runErr = fe.Run(ctx, fs.in, fs)
	}()
	env.Log.Info().Str("sftp", s.SFTPAddr).Str("dir", s.SFTPDir).Str("format", s.Format).
		Dur("interval", s.Interval).Str("prefix", s.Prefix).Msg("replaying into Energisme flat files")
	return fs, nil
}

// Handle passes msgs to the exporter, in order. A record that is not
// DeviceTelemetry is rejected (dead-lettered, reason undecodable) here, as
// the exporter would. It blocks while the exporter uploads (the server
// unreachable holds the replay), until ctx ends.
func (fs *filesSink) Handle(ctx context.Context, msgs []kafka.Message) []error {
	errs := make([]error, len(msgs))
	var failed error
	for i, m := range msgs {
		if failed != nil {
			errs[i] = failed
			continue
		}
		var t records.DeviceTelemetry
		if err := fs.codec.Unmarshal(m.Value, &t); err != nil {
			errs[i] = consume.Reject("undecodable", err)
			continue
		}
		if ctx.Err() != nil {
			failed, errs[i] = ctx.Err(), ctx.Err()
			continue
		}
		select {
		case fs.in <- m:
		case <-fs.exited:
			// Only a permanent export error ends the exporter early: the
			// replay holds until an operator fixes the configuration.
			failed = sinkerr.NewRetryable(fmt.Errorf("the file exporter stopped: %w", fs.runErr), 0)
			errs[i] = failed
		case <-ctx.Done():
			failed, errs[i] = ctx.Err(), ctx.Err()
		}
	}
	return errs
}

// Done implements consume.Acks for the exporter: msgs are in a file on the
// server (or had no rows). Files of a partition complete in offset order.
func (fs *filesSink) Done(msgs ...kafka.Message) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, m := range msgs {
		k := partitionKey(m.Topic, m.Partition)
		if m.Offset+1 > fs.durable[k] {
			fs.durable[k] = m.Offset + 1
		}
	}
	if err := fs.saveLocked(); err != nil && fs.saveErr == nil {
		fs.saveErr = err
	}
}

// Reject implements consume.Acks. Handle rejects what the exporter would,
// so it is never called; if it were, the record must not pass unseen.
func (fs *filesSink) Reject(_ context.Context, m kafka.Message, err error) error {
	return fmt.Errorf("the file exporter rejected %s/%d@%d, which the replay sink accepted: %w", m.Topic, m.Partition, m.Offset, err)
}

// Resume implements replay.Holding.
func (fs *filesSink) Resume(statePath string, st *replay.State, resumed bool) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if statePath != "" {
		fs.path = strings.TrimSuffix(statePath, ".json") + ".files.json"
	}
	if fs.path != "" && resumed {
		b, err := os.ReadFile(fs.path)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return fmt.Errorf("reading the files sink's progress: %w", err)
		default:
			var p filesProgress
			if err := json.Unmarshal(b, &p); err != nil {
				return fmt.Errorf("reading the files sink's progress %s: %w", fs.path, err)
			}
			for k, v := range p.Durable {
				fs.durable[k] = v
			}
		}
	}
	fs.rewindLocked(st)
	return fs.saveLocked()
}

// Finish implements replay.Holding.
func (fs *filesSink) Finish(ctx context.Context, st *replay.State, complete bool) error {
	fs.mu.Lock()
	already := fs.finished
	fs.finished = true
	fs.mu.Unlock()
	var err error
	if !already {
		if complete {
			close(fs.in) // Bounded: the open files are complete and uploaded
			select {
			case <-fs.exited:
			case <-ctx.Done():
			}
		}
		fs.cancel()
		<-fs.exited
		if fs.runErr != nil && (complete || !errors.Is(fs.runErr, context.Canceled)) {
			err = fmt.Errorf("uploading files: %w", fs.runErr)
		}
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.rewindLocked(st) {
		st.Complete = false
	}
	if err == nil && fs.saveErr != nil {
		err = fs.saveErr
	}
	return err
}

// Close stops the exporter if Finish did not (dropping what it holds) and
// closes the SFTP connection.
func (fs *filesSink) Close(ctx context.Context) error {
	fs.mu.Lock()
	fs.finished = true
	fs.mu.Unlock()
	fs.cancel()
	<-fs.exited
	return fs.up.Close(ctx)
}

// rewindLocked moves each range's next offset back to the first record
// not in an uploaded file, never before the range's start; it reports
// whether any moved.
func (fs *filesSink) rewindLocked(st *replay.State) bool {
	moved := false
	for i, r := range st.Ranges {
		next := max(r.Start, fs.durable[partitionKey(r.Topic, r.Partition)])
		if next < r.Next {
			fs.log.Info().Str("topic", r.Topic).Int("partition", r.Partition).Int64("from", next).Int64("was", r.Next).
				Msg("records taken but not yet in an uploaded file are read again")
			st.Ranges[i].Next = next
			moved = true
		}
	}
	return moved
}

func (fs *filesSink) saveLocked() error {
	if fs.path == "" {
		return nil
	}
	b, err := json.MarshalIndent(filesProgress{Durable: fs.durable}, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the files sink's progress: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(fs.path), 0o700); err != nil {
		return fmt.Errorf("creating state directory: %w", err)
	}
	if err := filewatch.WriteFile(fs.path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing the files sink's progress: %w", err)
	}
	return nil
}

func partitionKey(topic string, partition int) string {
	return topic + "/" + strconv.Itoa(partition)
}
