package config

import (
	"reflect"

	"github.com/snotibridge/snotibridge/pkg/internal/fielderr"
)

// Rename turns the field errors of a library's validation into errors
// naming the environment variables spec reads them from. spec is a struct
// (or a pointer to one) whose fields are named like the library Config's
// and tagged with their variables: Brokers `envconfig:"KAFKA_BROKERS"`
// renames "Brokers is empty" to "KAFKA_BROKERS is empty", and every other
// field of spec named in the reason too. Errors joined with errors.Join
// are renamed one by one, in order; an error that is no field error is
// kept as it is.
func Rename(err error, spec any) error {
	if err == nil {
		return nil
	}
	t := reflect.TypeOf(spec)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	vars := map[string]string{}
	collectVars(t, vars)
	return fielderr.Rename(err, vars)
}

// collectVars maps the tagged fields of t, and of the structs it embeds,
// to their variables.
func collectVars(t reflect.Type, vars map[string]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if name, ok := f.Tag.Lookup("envconfig"); ok {
			vars[f.Name] = name
			continue
		}
		if f.Type.Kind() == reflect.Struct && f.Anonymous {
			collectVars(f.Type, vars)
		}
	}
}
