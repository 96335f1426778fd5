// Package e6chaos adapts the e6data connector to the chaos workload.
package e6chaos
