// Package resume brings a suspended e6data cluster back through the
// ClusterService, once per cluster at a time: callers arriving while a
// resume runs wait for its outcome instead of starting their own.
package resume
