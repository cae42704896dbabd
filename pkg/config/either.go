package config

import "fmt"

// Var is one environment variable as loaded: its name and its value, ""
// when unset.
type Var struct {
	Name, Value string
}

// Either resolves a setting that more than one variable may give, such as
// a stage's dead-letter topic, which its service reads as TOPIC_DLQ and
// bridgectl as TOPIC_ENOS_DLQ: both names mean the same setting, so one
// environment serves both programs. It returns the value of the variables
// that are set and the name of the first of them, or def and "" when none
// is. Two set to different values are an error naming both and the fix.
func Either(def string, vars ...Var) (value, from string, err error) {
	for _, v := range vars {
		if v.Value == "" {
			continue
		}
		if from == "" {
			value, from = v.Value, v.Name
			continue
		}
		if v.Value != value {
			return "", "", fmt.Errorf("%s=%q and %s=%q disagree: they name the same setting; set one of them, or both to the same value", from, value, v.Name, v.Value)
		}
	}
	if from == "" {
		return def, "", nil
	}
	return value, from, nil
}
