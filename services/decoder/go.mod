module github.com/snotibridge/snotibridge/services/decoder

go 1.26

require (
	github.com/snotibridge/snotibridge/pkg v0.0.0
	github.com/snotibridge/snotibridge/schemas v0.0.0
)

replace (
	github.com/snotibridge/snotibridge/pkg => ../../pkg
	github.com/snotibridge/snotibridge/schemas => ../../schemas
)
