package value

// Field is one named decoded value, in the order the codec defines them.
type Field struct {
	Name  string
	Value Value
}

// Map returns fields as a name → Any() map, for JSON or Avro encoders.
func Map(fields []Field) map[string]any {
	m := make(map[string]any, len(fields))
	for _, f := range fields {
		m[f.Name] = f.Value.Any()
	}
	return m
}
