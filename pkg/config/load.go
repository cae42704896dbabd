package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"

	"github.com/kelseyhightower/envconfig"
)

// Validator is implemented by configuration structs (or embedded parts of
// them) that check values envconfig cannot: ranges, combinations, files.
// Validate returns every problem it finds, joined with errors.Join, each
// naming the variable, the value and the fix.
type Validator interface {
	Validate() error
}

// Load fills spec, a pointer to a struct whose fields carry `envconfig`
// tags with the full variable name (no prefix is applied), from the
// environment. A string field also tagged `file:"true"` (a secret) may be
// given instead as NAME_FILE, the path of a file holding the value, as
// Kubernetes and compose secrets are mounted; one trailing newline is
// dropped, and setting both NAME and NAME_FILE is an error. Every variable that fails to parse or is required and unset
// is reported, then Validate is called on spec and on every embedded or
// nested struct that implements Validator. The returned error joins all
// problems, so an operator fixes them in one go.
func Load(spec any) error {
	v := reflect.ValueOf(spec)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("loading config: spec must be a pointer to a struct, got %T", spec)
	}
	var errs []error
	loadStruct(v.Elem(), &errs)
	if len(errs) == 0 {
		validate(v, &errs)
	}
	return errors.Join(dedupe(errs)...)
}

// dedupe drops repeated messages: a Validate promoted from an embedded
// struct runs both for the part and for the whole.
func dedupe(errs []error) []error {
	seen := map[string]bool{}
	out := errs[:0]
	for _, e := range errs {
		if !seen[e.Error()] {
			seen[e.Error()] = true
			out = append(out, e)
		}
	}
	return out
}

// loadStruct processes each leaf field on its own, so that one bad value does
// not hide the others (envconfig.Process stops at the first failure).
func loadStruct(v reflect.Value, errs *[]error) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		fv := v.Field(i)
		if _, tagged := f.Tag.Lookup("envconfig"); !tagged && f.Type.Kind() == reflect.Struct {
			loadStruct(fv, errs)
			continue
		}
		if _, tagged := f.Tag.Lookup("envconfig"); !tagged {
			continue
		}
		if f.Tag.Get("file") == "true" && f.Type.Kind() == reflect.String {
			if v, ok, err := fromFile(f.Tag.Get("envconfig")); err != nil {
				*errs = append(*errs, err)
				continue
			} else if ok {
				fv.SetString(v)
				continue
			}
		}
		// A one-field struct with the same tag lets envconfig parse this
		// variable exactly as it would inside the full struct.
		one := reflect.New(reflect.StructOf([]reflect.StructField{{
			Name: "V",
			Type: f.Type,
			Tag:  f.Tag,
		}}))
		if err := envconfig.Process("", one.Interface()); err != nil {
			*errs = append(*errs, describe(err))
			continue
		}
		fv.Set(one.Elem().Field(0))
	}
}

func describe(err error) error {
	var pe *envconfig.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s=%q: cannot parse as %s", pe.KeyName, pe.Value, pe.TypeName)
	}
	return err
}

var validatorType = reflect.TypeFor[Validator]()

// validate calls Validate on every struct that implements Validator, the
// nested ones first, so each part reports its own variables. A nested
// struct without any envconfig tag was not loaded (a library's typed
// Config a spec carries for its service, filled from other variables):
// it is not validated here.
func validate(v reflect.Value, errs *[]error) {
	e := v.Elem()
	for i := 0; i < e.NumField(); i++ {
		f := e.Field(i)
		if f.Kind() == reflect.Struct && f.CanAddr() && e.Type().Field(i).IsExported() && hasVars(f.Type()) {
			validate(f.Addr(), errs)
		}
	}
	if v.Type().Implements(validatorType) {
		if err := v.Interface().(Validator).Validate(); err != nil {
			*errs = append(*errs, err)
		}
	}
}

// fromFile reads the value of variable name from the file NAME_FILE names.
// ok is false when NAME_FILE is unset or empty.
func fromFile(name string) (value string, ok bool, err error) {
	fileVar := name + "_FILE"
	path := os.Getenv(fileVar)
	if path == "" {
		return "", false, nil
	}
	if os.Getenv(name) != "" {
		return "", false, fmt.Errorf("%s and %s are both set: set only one (%s names a file holding the value)", name, fileVar, fileVar)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", false, fmt.Errorf("%s=%q: reading the file: %v", fileVar, path, err)
	}
	v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if v == "" {
		return "", false, fmt.Errorf("%s=%q: the file is empty: write the value of %s into it", fileVar, path, name)
	}
	return v, true, nil
}

// hasVars reports whether struct type t reads any variable: whether a field
// of it, or of a struct it holds, carries an envconfig tag.
func hasVars(t reflect.Type) bool {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if _, ok := f.Tag.Lookup("envconfig"); ok && f.IsExported() {
			return true
		}
		if f.Type.Kind() == reflect.Struct && f.IsExported() && hasVars(f.Type) {
			return true
		}
	}
	return false
}
