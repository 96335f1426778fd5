package main

import (
	"context"
	"io"

	"github.com/e6go/e6data/internal/simcmd"
)

// run runs the simulator until ctx ends and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return simcmd.Run(ctx, simcmd.Options{Name: "e6sim"}, args, stdout, stderr)
}
