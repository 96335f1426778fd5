// Package simcmd is the command line of the simulator, shared by the e6sim
// command and `e6 sim`: the flags, starting the simulator, the banner and
// the graceful shutdown.
package simcmd
