package testkit_test

import (
	"os"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/testkit"
)

func TestEnv(t *testing.T) {
	t.Setenv("TESTKIT_A", "before")
	t.Run("inner", func(t *testing.T) {
		testkit.Unsetenv(t, "TESTKIT_A")
		if _, set := os.LookupEnv("TESTKIT_A"); set {
			t.Error("TESTKIT_A still set")
		}
		testkit.Setenv(t, map[string]string{"TESTKIT_B": "b"})
		if os.Getenv("TESTKIT_B") != "b" {
			t.Error("TESTKIT_B not set")
		}
	})
	if os.Getenv("TESTKIT_A") != "before" {
		t.Errorf("TESTKIT_A = %q after the subtest, want it restored", os.Getenv("TESTKIT_A"))
	}
	if _, set := os.LookupEnv("TESTKIT_B"); set {
		t.Error("TESTKIT_B outlived its subtest")
	}
}
