package snoti_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/snoti"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
)

// Example runs a client against an in-process simulator: the handler
// hands each push to a worker, which ACKs it once its work is done.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sim, _ := snotisim.New(snotisim.Config{Addr: "127.0.0.1:0", Products: []snotisim.Product{
		{ProductKey: "pk1", AuthID: "id", AuthSecret: "secret", Subkeys: []string{"main"}},
	}}, zerolog.Nop())
	_ = sim.Start()
	defer func() { _ = sim.Close(context.Background()) }()
	dir, _ := os.MkdirTemp("", "snoti-example")
	defer os.RemoveAll(dir)
	ca := filepath.Join(dir, "ca.pem")
	_ = os.WriteFile(ca, sim.CertPEM(), 0o600)

	client, err := snoti.New(snoti.Config{
		Addr:     sim.Addr(),
		CAFile:   ca,
		Prefetch: 50,
		Products: []snoti.Product{{ProductKey: "pk1", AuthID: "id", AuthSecret: "secret", Subkey: "main", Events: []string{"device.status.kv"}}},
	}, zerolog.Nop())
	if err != nil {
		fmt.Println(err)
		return
	}
	work := make(chan *snoti.Push, 50) // prefetch bounds what is outstanding
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = client.Run(ctx, snoti.HandlerFuncs{
			OnPush:    func(p *snoti.Push) { work <- p },
			OnInvalid: func(inv snoti.Invalid) { fmt.Println("invalid:", inv.Reason) },
		})
	}()

	_, _ = sim.Publish(snotisim.Event{ProductKey: "pk1", EventType: snoti.EventDeviceStatusKV, DID: "d1",
		FieldsJSON: []byte(`{"data":{"temperature":21.5}}`)})
	p := <-work
	kv := p.Data.(*snoti.StatusKV)
	fmt.Println(p.EventType, p.DID, string(kv.Values["temperature"]))
	p.Ack() // after the caller's own work is durable

	_, _ = sim.WaitFor(ctx, func(s snotisim.Summary) bool { return s.Acks == 1 })
	cancel()
	<-done
	// Output: device_status_kv d1 21.5
}
