package config_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/config"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

type Inner struct {
	Port int `envconfig:"T_PORT" default:"80"`
}

func (i Inner) Validate() error {
	if i.Port <= 0 {
		return fmt.Errorf("T_PORT=%d: must be > 0", i.Port)
	}
	return nil
}

type spec struct {
	Inner
	Name    string        `envconfig:"T_NAME" required:"true"`
	Count   int           `envconfig:"T_COUNT" default:"3"`
	Timeout time.Duration `envconfig:"T_TIMEOUT" default:"2s"`
	List    []string      `envconfig:"T_LIST"`
}

func (s *spec) Validate() error {
	if s.Count > 10 {
		return errors.New("T_COUNT: must be at most 10")
	}
	return nil
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    spec
		wantErr []string
	}{
		{
			name: "defaults",
			env:  map[string]string{"T_NAME": "x"},
			want: spec{Inner: Inner{Port: 80}, Name: "x", Count: 3, Timeout: 2 * time.Second},
		},
		{
			name: "values",
			env:  map[string]string{"T_NAME": "y", "T_COUNT": "7", "T_LIST": "a,b", "T_PORT": "9"},
			want: spec{Inner: Inner{Port: 9}, Name: "y", Count: 7, Timeout: 2 * time.Second, List: []string{"a", "b"}},
		},
		{
			name:    "every parse error at once",
			env:     map[string]string{"T_COUNT": "many", "T_TIMEOUT": "soon", "T_PORT": "x"},
			wantErr: []string{`T_COUNT="many"`, `T_TIMEOUT="soon"`, `T_PORT="x"`, "T_NAME"},
		},
		{
			name:    "validation of nested and outer",
			env:     map[string]string{"T_NAME": "x", "T_COUNT": "11", "T_PORT": "-1"},
			wantErr: []string{"T_COUNT: must be at most 10", "T_PORT=-1: must be > 0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.Unsetenv(t, "T_NAME", "T_COUNT", "T_TIMEOUT", "T_LIST", "T_PORT")
			testkit.Setenv(t, tt.env)
			var got spec
			err := config.Load(&got)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("Load: want error containing %q, got nil", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

type secretSpec struct {
	User     string `envconfig:"T_USER" default:"u"`
	Password string `envconfig:"T_PASSWORD" file:"true" required:"true"`
}

func TestLoadSecretFromFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	withNewline := write("pw", "s3cret\n")
	crlf := write("pw-crlf", "s3cret\r\n")
	empty := write("empty", "\n")
	tests := []struct {
		name    string
		env     map[string]string
		want    string
		wantErr []string
	}{
		{name: "value", env: map[string]string{"T_PASSWORD": "plain"}, want: "plain"},
		{name: "file, newline dropped", env: map[string]string{"T_PASSWORD_FILE": withNewline}, want: "s3cret"},
		{name: "file with CRLF", env: map[string]string{"T_PASSWORD_FILE": crlf}, want: "s3cret"},
		{name: "both", env: map[string]string{"T_PASSWORD": "x", "T_PASSWORD_FILE": withNewline},
			wantErr: []string{"T_PASSWORD and T_PASSWORD_FILE are both set: set only one"}},
		{name: "missing file", env: map[string]string{"T_PASSWORD_FILE": filepath.Join(dir, "nope")},
			wantErr: []string{`T_PASSWORD_FILE="` + filepath.Join(dir, "nope") + `": reading the file`}},
		{name: "empty file", env: map[string]string{"T_PASSWORD_FILE": empty}, wantErr: []string{"the file is empty: write the value of T_PASSWORD into it"}},
		{name: "neither", wantErr: []string{"T_PASSWORD"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.Unsetenv(t, "T_USER", "T_PASSWORD", "T_PASSWORD_FILE")
			testkit.Setenv(t, tt.env)
			var got secretSpec
			err := config.Load(&got)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("Load: want error containing %q, got nil", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Error("the secret is in the error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got.Password != tt.want || got.User != "u" {
				t.Errorf("got %+v, want password %q", got, tt.want)
			}
		})
	}
}

func TestEither(t *testing.T) {
	tests := []struct {
		name      string
		vars      []config.Var
		want      string
		wantFrom  string
		wantError bool
	}{
		{name: "none set", vars: []config.Var{{"A", ""}, {"B", ""}}, want: "def"},
		{name: "first", vars: []config.Var{{"A", "x"}, {"B", ""}}, want: "x", wantFrom: "A"},
		{name: "second", vars: []config.Var{{"A", ""}, {"B", "y"}}, want: "y", wantFrom: "B"},
		{name: "both agree", vars: []config.Var{{"A", "x"}, {"B", "x"}}, want: "x", wantFrom: "A"},
		{name: "both disagree", vars: []config.Var{{"A", "x"}, {"B", "y"}}, wantError: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, from, err := config.Either("def", tt.vars...)
			if (err != nil) != tt.wantError {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				if !strings.Contains(err.Error(), `A="x" and B="y" disagree`) {
					t.Errorf("error %q does not name both variables", err)
				}
				return
			}
			if got != tt.want || from != tt.wantFrom {
				t.Errorf("Either = %q from %q, want %q from %q", got, from, tt.want, tt.wantFrom)
			}
		})
	}
}
