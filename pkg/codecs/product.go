package codecs

import (
	"github.com/snotibridge/snotibridge/pkg/devcodec"
	"github.com/snotibridge/snotibridge/pkg/gizwits"
)

// product is the codecs of one product_key in a snapshot; immutable.
type product struct {
	key        string
	definition *gizwits.Definition // nil: custom codec only
	custom     *devcodec.Codec     // nil: data points only
}
