module github.com/snotibridge/snotibridge/tools/run

go 1.26.0

require (
	github.com/creack/pty v1.1.24
	github.com/prometheus/client_model v0.6.3
	github.com/prometheus/common v0.72.0
	github.com/segmentio/kafka-go v0.4.51
	golang.org/x/term v0.48.0
)

require (
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/pierrec/lz4/v4 v4.1.33 // indirect
	golang.org/x/sys v0.50.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

require github.com/snotibridge/snotibridge/pkg v0.0.0

replace (
	github.com/snotibridge/snotibridge/pkg => ../../pkg
	github.com/snotibridge/snotibridge/schemas => ../../schemas
)
