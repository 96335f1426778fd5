//go:build !race

package e6data

const raceEnabled = false
