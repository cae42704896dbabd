package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// groups are the consumer groups of the stack (the services' defaults).
var groups = []string{"decoder", "enos", "energisme", "energisme-files"}

// waitCoordinators waits until the broker serves the coordinator of every
// group of the stack, loaded: on a fresh broker the offsets topic is
// created by the first FindCoordinator and its partitions take a moment to
// load; consumers that join before that can fail and exit.
func waitCoordinators(ctx context.Context, addr string) error {
	tr := &kafka.Transport{MetadataTTL: time.Second}
	defer tr.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 5 * time.Second, Transport: tr}
	var last error
	for {
		last = nil
		for _, g := range groups {
			if err := coordinatorReady(ctx, client, g); err != nil {
				last = fmt.Errorf("group %s: %w", g, err)
				break
			}
		}
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no group coordinator on %s: %v", addr, last)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

func coordinatorReady(ctx context.Context, client *kafka.Client, group string) error {
	fc, err := client.FindCoordinator(ctx, &kafka.FindCoordinatorRequest{Key: group, KeyType: kafka.CoordinatorKeyTypeConsumer})
	if err != nil {
		return err
	}
	if fc.Error != nil {
		return fc.Error
	}
	of, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group})
	if err != nil {
		return err
	}
	if of.Error != nil && !errors.Is(of.Error, kafka.GroupIdNotFound) {
		return of.Error
	}
	return nil
}
